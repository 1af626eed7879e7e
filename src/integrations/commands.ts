// Agent integrations: every agent's /piv commands come from one set of prompts (PROMPTS), so agents never disagree; each generated file carries a marker with its own hash.
import { createHash } from 'node:crypto';

/** Agents piv integrates with. */
export const AGENTS = ['claude', 'codex', 'gemini', 'cursor', 'opencode'] as const;
export type AgentName = (typeof AGENTS)[number];

export interface Prompt {
  /** The verb, also the command's last name segment (/piv:<name>, /piv-<name>). */
  name: string;
  description: string;
  /** Shown by agents that support it (Claude Code, opencode, Codex prompts) while typing the command. */
  argumentHint?: string;
  /** The prompt; `$ARGUMENTS` stands for what the user typed after the command (each agent's own placeholder replaces it). */
  body: string;
}

/**
 * The prompts behind the commands: short, they make the agent call the piv CLI and follow what it prints instead of
 * re-telling the workflow. `npx piv` finds the project's piv (a dev dependency) or piv's own checkout.
 */
export const PROMPTS: readonly Prompt[] = [
  {
    name: 'prime',
    description: 'Load the codebase brief into this context',
    body: 'Run `npx piv prime`. Read the brief it prints (stack, commands, key files, the open feature and its next task) and follow the next step it names. Change no file.',
  },
  {
    name: 'discuss',
    description: 'Open a feature session and settle the questions that shape it',
    argumentHint: '<feature request>',
    body: `Feature request: $ARGUMENTS

Run \`npx piv discuss <feature-slug> --request "<the request in the user's words>"\` (a slug such as user-authentication). Ask the user the questions whose answers change the design and record them with \`--question "..."\`; record each answer with \`npx piv discuss <feature-slug> --decide "QUESTION=ANSWER"\`. Stop when piv lists no open questions.`,
  },
  {
    name: 'plan',
    description: 'Break the feature into small verifiable tasks',
    body: 'Write the plan file `.agents/plan.yaml` (format: `.agents/schemas/plan.schema.json`; small tasks, each with files, action, a `verify` command that exits 0 only when the task is done, and `blocked_by`), then run `npx piv plan .agents/plan.yaml`. Fix every error it reports and run it again until it accepts the plan; show the user its table.',
  },
  {
    name: 'execute',
    description: 'Claim the next ready task, implement it, verify and commit it',
    body: 'Run `npx piv execute`. Implement the brief it prints (its action, in its files, within the recorded decisions), then run `npx piv done <id>`. If verify fails, fix the code (never the verify command) and run `npx piv done <id>` again. Then do what piv prints next.',
  },
  {
    name: 'pause',
    description: 'Checkpoint the feature before the context runs out',
    body: 'Run `npx piv pause --note "<one line: where you are, what is half done>"` and report the checkpoint it prints.',
  },
  {
    name: 'resume',
    description: 'Pick the feature up in a fresh context',
    body: 'Run `npx piv resume`. Read the decisions, checkpoint and repairs it prints; if the baseline tests fail, fix them first. Then continue with the task it names (`npx piv execute`).',
  },
  {
    name: 'validate',
    description: 'Run the gate: tasks committed, lint, typecheck, tests, coverage',
    body: 'Run `npx piv validate`. Fix every failed stage it lists (reopen a task whose work is incomplete with `npx piv reopen <id> --reason "..."`) and run it again until it passes.',
  },
  {
    name: 'status',
    description: 'Show the feature: progress, ready tasks, context budget',
    body: 'Run `npx piv status` and summarise it in three lines: progress, what is ready or in progress, and its recommendation if it makes one.',
  },
];

/** A generated file: where it goes and its full text (marker included). */
export interface GeneratedFile {
  /** Relative to the repository root, except Codex prompts (absolute, under $CODEX_HOME). */
  path: string;
  content: string;
}

/** 16 hex digits of the SHA-256 of `text` (how piv recognises its own, unchanged text). */
export function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

const MARKER_TEXT = 'piv integrations install rewrites this file while it is unchanged; piv integrations remove deletes it';
const MARKER_LINE = /^(?:<!-- |# )piv:generated sha256=([0-9a-f]{16})\b[^\n]*\n/m;

/** The marker line for `body` (the file without the line), in the comment syntax of its format. */
function markerFor(body: string, syntax: 'html' | 'hash'): string {
  const text = `piv:generated sha256=${shortHash(body)}; ${MARKER_TEXT}`;
  return syntax === 'html' ? `<!-- ${text} -->\n` : `# ${text}\n`;
}

/** Puts the marker line at `at` (a character offset) of `body`. */
function withMarker(body: string, at: number, syntax: 'html' | 'hash'): string {
  return body.slice(0, at) + markerFor(body, syntax) + body.slice(at);
}

/**
 * Hashes (shortHash of the whole text) of the command files earlier piv versions generated (`piv init` before the plugin:
 * .claude/commands/piv/, .gemini/commands/piv/, .cursor/commands/, .opencode/command/), so they count as piv's and unchanged.
 */
const LEGACY_HASHES = new Set([
  '75074c3f67f87a51', '3672d4c37a8fd96e', '7813c0ef0a281abb', 'f7cf09b31866b1a2', 'd5e686527317cb16', '81ce46a77ab79f18', '293e5d606a5230e0',
  'e9fa63d8a257c4be', '9ae876f70559cb49', '3498106b215aeea7', 'e6b28c39f670ee66', '5140e4caacaff096', '616f4bee7bae9b4f', '666e118071ccd7f4',
  '71960c9e271e842b', '56395e8923fe696f', '40aeff3d04c4cb45', '18dee6c0ae463824', '55f795ef022bf77a', '8263541bd6d339e7', 'bf6627b72bea683b',
  'fa9b45dd03d6295f',
]);
const LEGACY_MARK = 'Generated by piv init; `piv init --force-integrations` rewrites it.';

/** Who a file at one of piv's paths belongs to: piv (unchanged or changed since piv wrote it) or someone else. */
export type Ownership = 'untouched' | 'modified' | 'foreign';

/**
 * Reads the ownership of a file's text: `untouched` when its piv marker's hash matches the rest of the text (or it is a file
 * an earlier piv generated, unchanged), `modified` when it carries piv's marker but was edited, `foreign` without a marker. Pure.
 */
export function ownership(text: string): Ownership {
  if (LEGACY_HASHES.has(shortHash(text))) return 'untouched';
  if (text.includes(LEGACY_MARK)) return 'modified';
  const m = MARKER_LINE.exec(text);
  if (!m) return 'foreign';
  const body = text.slice(0, m.index) + text.slice(m.index + m[0].length);
  return shortHash(body) === m[1] ? 'untouched' : 'modified';
}

const withArgs = (body: string, placeholder: string) => body.replace(/\$ARGUMENTS/g, placeholder);
const yamlString = (s: string) => JSON.stringify(s); // a JSON string is a valid YAML double-quoted scalar

/** Markdown with YAML front matter (`fields`), the marker (unless `marker` is false) right after it. */
function frontMatterFile(fields: Record<string, string | undefined>, body: string, marker = true): string {
  const lines = Object.entries(fields).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}: ${yamlString(v!)}`);
  const head = `---\n${lines.join('\n')}\n---\n`;
  return marker ? withMarker(`${head}${body}\n`, head.length, 'html') : `${head}${body}\n`;
}

/**
 * The Claude Code plugin's command files (paths relative to the plugin root): commands/<verb>.md, invoked as /piv:<verb>.
 * They ship in piv's repository (plugin/, written by `npm run plugin`), so they carry no install marker.
 */
export function claudePluginCommands(): GeneratedFile[] {
  return PROMPTS.map((p) => ({ path: `commands/${p.name}.md`, content: frontMatterFile({ description: p.description, 'argument-hint': p.argumentHint }, p.body, false) }));
}

/** Gemini CLI: .gemini/commands/piv/<verb>.toml, invoked as /piv:<verb> (sub-folders namespace there); `{{args}}` is the user's text. */
export function geminiCommands(): GeneratedFile[] {
  return PROMPTS.map((p) => {
    const prompt = withArgs(p.body, '{{args}}');
    if (prompt.includes("'''")) throw new Error(`prompt ${p.name} cannot be a TOML literal string`);
    const body = `description = ${JSON.stringify(p.description)}\nprompt = '''\n${prompt}\n'''\n`;
    return { path: `.gemini/commands/piv/${p.name}.toml`, content: withMarker(body, 0, 'hash') };
  });
}

/** Cursor: .cursor/commands/piv-<verb>.md, plain Markdown (Cursor reads no front matter), invoked as /piv-<verb>. */
export function cursorCommands(): GeneratedFile[] {
  return PROMPTS.map((p) => ({ path: `.cursor/commands/piv-${p.name}.md`, content: withMarker(`# ${p.description}\n\n${withArgs(p.body, 'the text typed after the command')}\n`, 0, 'html') }));
}

/** opencode: .opencode/commands/piv-<verb>.md with `description` front matter, invoked as /piv-<verb>; `$ARGUMENTS` as is. */
export function opencodeCommands(): GeneratedFile[] {
  return PROMPTS.map((p) => ({ path: `.opencode/commands/piv-${p.name}.md`, content: frontMatterFile({ description: p.description }, p.body) }));
}

/** Codex custom prompts: <prompts dir>/piv-<verb>.md (`$CODEX_HOME/prompts`, per user), invoked as /prompts:piv-<verb>. */
export function codexPrompts(promptsDir: string): GeneratedFile[] {
  return PROMPTS.map((p) => ({ path: `${promptsDir}/piv-${p.name}.md`, content: frontMatterFile({ description: p.description, 'argument-hint': p.argumentHint }, p.body) }));
}

export const AGENTS_MD_BEGIN = '<!-- piv:begin';
export const AGENTS_MD_END = '<!-- piv:end -->';

/**
 * The section piv keeps in AGENTS.md (read by Codex and other agents): the workflow as piv commands. Delimited by
 * `<!-- piv:begin sha256=… -->` and `<!-- piv:end -->`; the hash covers the lines between them.
 */
export function agentsMdSection(): string {
  const inner = [
    '## piv: the task workflow',
    '',
    'This repository plans and tracks features with piv (state in `.agents/`). Use its CLI and follow what it prints:',
    '',
    ...PROMPTS.map((p) => `- **${p.name}** (${p.description.toLowerCase()}): ${p.body.split('\n').filter((l) => !l.includes('$ARGUMENTS')).join(' ').trim().replace(/\s+/g, ' ')}`),
    '',
  ].join('\n');
  return `${AGENTS_MD_BEGIN} sha256=${shortHash(inner)}; piv integrations install rewrites this section while it is unchanged, remove deletes it -->\n${inner}${AGENTS_MD_END}\n`;
}

/** Finds piv's section in an AGENTS.md text: its span and whether it is unchanged; null when there is none. Pure. */
export function findAgentsMdSection(text: string): { start: number; end: number; untouched: boolean } | null {
  const start = text.indexOf(AGENTS_MD_BEGIN);
  if (start < 0) return null;
  const close = text.indexOf(AGENTS_MD_END, start);
  if (close < 0) return null;
  let end = close + AGENTS_MD_END.length;
  if (text[end] === '\n') end++;
  const firstLineEnd = text.indexOf('\n', start);
  const hash = /sha256=([0-9a-f]{16})/.exec(text.slice(start, firstLineEnd))?.[1];
  const inner = text.slice(firstLineEnd + 1, close);
  return { start, end, untouched: hash !== undefined && shortHash(inner) === hash };
}
