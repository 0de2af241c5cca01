// Vite builds web/ into build/web/, which the gateway serves at / (README, "Web app").
// Everything is emitted as external files: the gateway's CSP (`script-src 'self'`) allows no inline script.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const root = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
	root,
	base: "/",
	// Preact's automatic JSX runtime comes from web/tsconfig.json (`jsx: react-jsx`, `jsxImportSource: preact`),
	// which Vite's transform reads: no plugin (and no Babel) needed.
	build: {
		outDir: path.join(root, "..", "build", "web"),
		emptyOutDir: true,
		// no data: URLs, no inlined assets: every file is its own request, like any other static file
		assetsInlineLimit: 0,
		modulePreload: { polyfill: false },
		target: "es2022",
		sourcemap: true,
	},
	// `npm run dev:web`: Vite's dev server with live reload, the API proxied to a platform on :3000
	server: {
		port: 5173,
		strictPort: true,
		proxy: Object.fromEntries(["/api", "/health", "/openapi.json", "/docs", "/media", "/socket.io"].map(p => [p, "http://127.0.0.1:3000"])),
	},
});
