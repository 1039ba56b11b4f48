/// <reference types="vitest/config" />
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

const server = "http://127.0.0.1:4101";

/** Swagger UI's files for the API docs page (/api/docs), served by the server itself:
 * the docs work offline and under the server's Content-Security-Policy. */
function apiDocsAssets(): Plugin {
  const require = createRequire(import.meta.url);
  const files = ["swagger-ui-bundle.js", "swagger-ui.css"];
  return {
    name: "api-docs-assets",
    apply: "build",
    generateBundle() {
      for (const file of files) {
        const source = readFileSync(require.resolve(`swagger-ui-dist/${file}`));
        this.emitFile({ type: "asset", fileName: `api-docs/${file}`, source });
      }
    },
  };
}

export default defineConfig({
  plugins: [react(), apiDocsAssets()],
  base: "/",
  build: {
    // The Python package serves the built UI from stepstone/webui.
    outDir: "../src/stepstone/webui",
    emptyOutDir: true,
  },
  server: {
    proxy: {
      "/api": server,
      "/ws": { target: server, ws: true },
    },
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    css: false,
    restoreMocks: true,
  },
});
