/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const server = "http://127.0.0.1:4101";

export default defineConfig({
  plugins: [react()],
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
