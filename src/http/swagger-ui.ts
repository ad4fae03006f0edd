/**
 * The Swagger UI, served from the installed swagger-ui-dist package so it works
 * with no internet: the page, its assets and the OpenAPI document all come from
 * this nsqd.
 */
import { openapi } from "@elysiajs/openapi";
import { Elysia } from "elysia";
import { z } from "zod";
import { errorResponse } from "./errors.ts";
import bundle from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "file" };
import css from "swagger-ui-dist/swagger-ui.css" with { type: "file" };
import favicon16 from "swagger-ui-dist/favicon-16x16.png" with { type: "file" };
import favicon32 from "swagger-ui-dist/favicon-32x32.png" with { type: "file" };

export const DOCS_PATH = "/openapi";
export const SPEC_PATH = "/openapi/json";

// Imported as files, not as modules: run from source these are paths into node_modules;
// `bun build --compile` embeds the files and the paths point inside the executable.
const ASSETS = new Map([
  ["swagger-ui.css", css],
  ["swagger-ui-bundle.js", bundle],
  ["favicon-32x32.png", favicon32],
  ["favicon-16x16.png", favicon16],
]);

const page = (title: string) => `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${title}</title>
  <link rel="stylesheet" href="${DOCS_PATH}/assets/swagger-ui.css">
  <link rel="icon" type="image/png" href="${DOCS_PATH}/assets/favicon-32x32.png" sizes="32x32">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="${DOCS_PATH}/assets/swagger-ui-bundle.js"></script>
  <script src="${DOCS_PATH}/init.js"></script>
</body>
</html>
`;

// validatorUrl null: the default badge would call validator.swagger.io
const INIT = `window.ui = SwaggerUIBundle({
  url: ${JSON.stringify(SPEC_PATH)},
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout"
});
`;

const hidden = { detail: { hide: true } };

/** The page (titled for the daemon that serves it), its start-up script and its assets. */
export interface ApiDocs {
  /** The OpenAPI document's title, version and description. */
  title: string;
  version: string;
  description: string;
  tags?: { name: string; description: string }[];
  /** The Swagger UI page's title. */
  pageTitle: string;
}

/** A daemon's OpenAPI document at SPEC_PATH (route schemas in zod) and its Swagger UI at DOCS_PATH. */
export function apiDocs(docs: ApiDocs) {
  const { title, version, description, tags, pageTitle } = docs;
  return new Elysia()
    .use(
      openapi({
        provider: null,
        specPath: SPEC_PATH,
        mapJsonSchema: { zod: z.toJSONSchema },
        documentation: { info: { title, version, description }, ...(tags === undefined ? {} : { tags }) },
      }),
    )
    .use(swaggerUiRoutes(pageTitle));
}

function swaggerUiRoutes(title: string) {
  const html = page(title);
  return new Elysia()
    .get(DOCS_PATH, () => new Response(html, { headers: { "Content-Type": "text/html; charset=utf-8" } }), hidden)
    .get(
      `${DOCS_PATH}/init.js`,
      () => new Response(INIT, { headers: { "Content-Type": "text/javascript; charset=utf-8" } }),
      hidden,
    )
    .get(
      `${DOCS_PATH}/assets/:file`,
      ({ params }) => {
        const path = ASSETS.get(params.file);
        if (path === undefined) return errorResponse(404, "NOT_FOUND");
        return new Response(Bun.file(path), {
          headers: { "Cache-Control": "public, max-age=86400" },
        });
      },
      { params: z.object({ file: z.string() }), ...hidden },
    );
}
