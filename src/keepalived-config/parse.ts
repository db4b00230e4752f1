/** The top level of a keepalived.conf: dispatches each block to its builder. */
import { DiagnosticSink, type Diagnostic } from './diagnostics.js';
import { buildLvsdBlock, emptyGlobalDefs, readGlobalDefs } from './global.js';
import type { KeepalivedModel, LvsdBlock } from './model.js';
import { buildVirtualServer, buildVirtualServerGroup } from './lvs.js';
import { parseAddressLine, parseRouteLine, parseRuleLine } from './network.js';
import { preprocess, type PreprocessOptions } from './preprocess.js';
import { TreeBuilder, type Block, type Statement } from './tree.js';
import { Reader } from './values.js';
import { buildVrrpInstance, buildVrrpScript, buildVrrpSyncGroup } from './vrrp.js';

export interface ParseResult {
  readonly model: KeepalivedModel;
  readonly diagnostics: readonly Diagnostic[];
  /** Every file that was read, main file first. */
  readonly files: readonly string[];
}

/** Top-level keywords keepalived knows that lvsd accepts without acting on them. */
const acceptedTopLevel = new Set([
  'linkbeat_use_polling',
  'instance',
  'use_pid_dir',
  'namespace_with_ipsets',
]);
/** Top-level blocks of keepalived features lvsd does not implement. */
const unsupportedTopLevel = new Set([
  'vrrp_track_file',
  'track_file',
  'vrrp_track_process',
  'track_process',
  'bfd_instance',
  'garp_group',
]);

export function parseFile(mainFile: string, options: PreprocessOptions): ParseResult {
  const sink = new DiagnosticSink();
  const builder = new ModelBuilder(new Reader(sink), mainFile);
  const tree = new TreeBuilder(sink, (st) => {
    builder.add(st);
  });
  const { files } = preprocess(mainFile, options, sink, (line) => {
    tree.push(line);
  });
  tree.end();
  return { model: builder.finish(), diagnostics: sink.items, files };
}

/** Builds the model one top-level statement at a time, as the tree builder hands them on. */
export class ModelBuilder {
  private readonly model: KeepalivedModel;
  private lvsd: LvsdBlock | undefined;
  private sawGlobal = false;

  constructor(
    private readonly r: Reader,
    mainFile: string,
  ) {
    this.model = {
      globalDefs: emptyGlobalDefs({ file: mainFile, line: 0, col: 0 }),
      vrrpScripts: [],
      vrrpInstances: [],
      vrrpSyncGroups: [],
      virtualServers: [],
      virtualServerGroups: [],
      staticIpaddress: [],
      staticRoutes: [],
      staticRules: [],
    };
  }

  add(st: Statement): void {
    const { r, model } = this;
    const kw = st.keyword.text;
    switch (kw) {
      case 'global_defs':
        if (!this.sawGlobal) model.globalDefs = emptyGlobalDefs(st.keyword.at);
        this.sawGlobal = true;
        readGlobalDefs(st, r, model.globalDefs);
        break;
      case 'vrrp_script': {
        const v = buildVrrpScript(st, r);
        if (v) model.vrrpScripts.push(v);
        break;
      }
      case 'vrrp_instance': {
        const v = buildVrrpInstance(st, r);
        if (v) model.vrrpInstances.push(v);
        break;
      }
      case 'vrrp_sync_group': {
        const v = buildVrrpSyncGroup(st, r);
        if (v) model.vrrpSyncGroups.push(v);
        break;
      }
      case 'virtual_server': {
        const v = buildVirtualServer(st, r);
        if (v) model.virtualServers.push(v);
        break;
      }
      case 'virtual_server_group': {
        const v = buildVirtualServerGroup(st, r);
        if (v) model.virtualServerGroups.push(v);
        break;
      }
      case 'static_ipaddress':
        for (const s of r.body(st)) {
          const a = parseAddressLine(s, r, 'static_ipaddress');
          if (a) model.staticIpaddress.push(a);
        }
        break;
      case 'static_routes':
        for (const s of r.body(st)) {
          const route = parseRouteLine(s, r, false);
          if (route) model.staticRoutes.push(route);
        }
        break;
      case 'static_rules':
        for (const s of r.body(st)) {
          const rule = parseRuleLine(s, r);
          if (rule) model.staticRules.push(rule);
        }
        break;
      case 'net_namespace': {
        const name = r.word(st, 'a namespace name');
        if (name !== undefined) {
          model.netNamespace = name;
          r.sink.warning(
            'not-supported',
            `net_namespace is not supported by lvsd: it runs in the namespace it is started in`,
            st.keyword.at,
            `start lvsd with: ip netns exec ${name} lvsd run ...`,
          );
        }
        break;
      }
      case 'lvsd':
        this.lvsd = buildLvsdBlock(st, r, this.lvsd);
        break;
      default:
        if (acceptedTopLevel.has(kw)) break;
        if (unsupportedTopLevel.has(kw)) {
          r.sink.warning(
            'not-supported',
            `${kw} is not supported by lvsd yet; the block is ignored`,
            st.keyword.at,
          );
          break;
        }
        r.unknown(st, 'top', 'the top level');
    }
  }

  finish(): KeepalivedModel {
    if (this.lvsd) this.model.lvsd = this.lvsd;
    return this.model;
  }
}

/** Whole-tree convenience (tests). */
export function buildModel(root: Block, r: Reader, mainFile: string): KeepalivedModel {
  const b = new ModelBuilder(r, mainFile);
  for (const st of root.statements) b.add(st);
  return b.finish();
}
