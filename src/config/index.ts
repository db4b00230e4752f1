/** The validated lvsd configuration (public entry of src/config). */
export * from './types.js';
export {
  buildConfig,
  loadConfig,
  defaultDaemonSettings,
  type LoadOptions,
  type LoadResult,
  type BuildOptions,
} from './build.js';
export { describedHost, unknownHost, type HostFacts, type ExecutableInfo } from './host.js';
export { fwmarkName, groupName, realServerName, serviceName, hostPort } from './names.js';
