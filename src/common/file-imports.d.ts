// Package files imported `with { type: "file" }` (Swagger UI in src/http/swagger-ui.ts, uPlot in
// src/admin/ui-routes.ts): the default export is the file's path, inside the executable once
// built by scripts/build.ts.
declare module "swagger-ui-dist/*" {
  const path: string;
  export default path;
}

declare module "uplot/dist/*" {
  const path: string;
  export default path;
}
