// Vite bundles the CSS files the app imports (main.tsx); to TypeScript they are modules without exports.
declare module "*.css";
