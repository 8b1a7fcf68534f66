// Vite configuration used in the sandbox: the project's own vite.config.ts
// with what the sandbox needs on top. Vite bundles a config into a file next
// to it, and the project is read-only, so this wrapper is copied to /tmp and
// imports the project's config from there.
import { defineConfig, mergeConfig } from "vite";
import project from "/workspace/vite.config.ts";

export default defineConfig(async (env) => {
  const base = typeof project === "function" ? await project(env) : project;
  return mergeConfig(base ?? {}, {
    root: "/workspace",
    cacheDir: "/tmp/vite-cache",
    server: {
      host: "0.0.0.0",
      port: 5173,
      strictPort: true,
      fs: { allow: ["/workspace", "/node_modules", "/tmp/vite-cache"] },
    },
  });
});
