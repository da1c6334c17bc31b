import { environmentReference, variableGroups, type VariableReference } from './config.ts';

/** The command that rewrites docs/configuration.md; the drift test and the file itself name it. */
export const regenerateCommand = 'npm run docs:config';

/** docs/configuration.md, entirely generated from the schema and `environmentDocs` in src/config.ts. */
export function configurationMarkdown(): string {
  const sections = variableGroups.map((group) => {
    const rows = environmentReference()
      .filter((v) => v.group === group)
      .map((v) => `| \`${v.name}\` | ${cell(v.default ?? '*(none)*')} | ${cell(v.values)} | ${cell(v.description)} |`);
    return `## ${group}\n\n| variable | default | values | meaning |\n| --- | --- | --- | --- |\n${rows.join('\n')}\n`;
  });
  return `# Configuration

<!-- Generated from src/config.ts by \`${regenerateCommand}\`: edit the descriptions there, not here. -->

Gazette is configured by environment variables only. Each is checked at start: a bad value stops start-up
with one line naming the variable (\`gazette: Invalid PORT="eighty": …\`), never a stack trace. An empty
value counts as unset. \`gazette --help\` prints this same list.

Most installs set \`SITE_URL\`, \`HOST\`/\`PORT\`, \`DATABASE_URL\` (for PostgreSQL), \`SMTP_URL\`, \`MAIL_FROM\`
and the three \`DKIM_*\` variables; everything else has a working default.

${sections.join('\n')}`;
}

/** The environment part of `gazette --help`: every variable, its default and values, and what it does. */
export function environmentHelp(width = 100): string {
  const reference = environmentReference();
  const nameWidth = Math.max(...reference.map((v) => v.name.length));
  const sections = variableGroups.map((group) => {
    const entries = reference.filter((v) => v.group === group).map((v) => helpEntry(v, nameWidth, width));
    return `${group}:\n${entries.join('\n')}`;
  });
  return `Environment (also in docs/configuration.md):\n\n${sections.join('\n\n')}`;
}

function helpEntry(v: VariableReference, nameWidth: number, width: number): string {
  const facts = `${v.default === null ? 'unset' : `default ${plain(v.default)}`}; ${plain(v.values)}`;
  return `  ${v.name.padEnd(nameWidth)}  ${facts}\n${wrap(plain(v.description), width - 6)
    .map((line) => `      ${line}`)
    .join('\n')}`;
}

/** Markdown → terminal text: code spans and emphasis lose their marks. */
function plain(markdown: string): string {
  return markdown.replace(/`([^`]*)`/g, '$1').replace(/\*([^*]+)\*/g, '$1');
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** A table cell: a pipe would end the cell, and a line break the row. */
function cell(markdown: string): string {
  return markdown.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
