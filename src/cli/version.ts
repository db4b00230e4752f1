/** The version, injected by the bundler from package.json (see scripts/build.mjs). */
declare const __LVSD_VERSION__: string | undefined;
export const version: string =
  typeof __LVSD_VERSION__ === 'string' ? __LVSD_VERSION__ : '0.0.0-dev';
