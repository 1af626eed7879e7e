// Writes the generated files of piv's Claude Code plugin (plugin/commands/*.md, hooks/hooks.json, .mcp.json) from the one
// source of the prompts and hooks (src/integrations/): run `npm run plugin`. A test fails when they are out of date.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { claudePluginCommands } from '../dist/integrations/commands.js';
import { pluginHooksFile, pluginMcpFile } from '../dist/integrations/hooks.js';

const plugin = fileURLToPath(new URL('../plugin/', import.meta.url));
const files = [
  ...claudePluginCommands(),
  { path: 'hooks/hooks.json', content: JSON.stringify(pluginHooksFile(), null, 2) + '\n' },
  { path: '.mcp.json', content: JSON.stringify(pluginMcpFile(), null, 2) + '\n' },
];
for (const f of files) {
  mkdirSync(path.dirname(path.join(plugin, f.path)), { recursive: true });
  writeFileSync(path.join(plugin, f.path), f.content);
  console.log(`wrote plugin/${f.path}`);
}
