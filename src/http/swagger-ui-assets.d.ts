// swagger-ui-dist's files as src/http/swagger-ui.ts imports them, `with { type: "file" }`:
// the default export is the file's path (inside the executable when compiled).
declare module "swagger-ui-dist/*" {
  const path: string;
  export default path;
}
