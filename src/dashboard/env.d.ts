/** Vite bundles imported stylesheets into the built CSS file. */
declare module '*.css';
