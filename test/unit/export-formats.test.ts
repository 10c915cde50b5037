import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBlocks, renderExport } from '../../activities/video-import/export-formats';

const doc = {
  title: 'How I plan a month of videos',
  body: [
    '## Key takeaways',
    '',
    '- Batch filming saves **nine hours** a week (lights stay up) & costs nothing.',
    '1. Script only the hook and the ending.',
    '',
    `A paragraph with a backslash \\ and parentheses (like these), an em dash — and “quotes”. ${'Long text wraps across lines. '.repeat(200)}`,
  ].join('\n'),
};

describe('export formats', () => {
  it('reads headings, list items and paragraphs, dropping inline markdown', () => {
    expect(parseBlocks(doc.body).slice(0, 3)).toEqual([
      { kind: 'heading', level: 2, text: 'Key takeaways' },
      { kind: 'item', marker: '•', text: 'Batch filming saves nine hours a week (lights stay up) & costs nothing.' },
      { kind: 'item', marker: '1.', text: 'Script only the hook and the ending.' },
    ]);
  });

  it('md keeps the markdown under a title; txt is plain text', () => {
    expect(renderExport(doc, 'md').data.toString('utf8')).toMatch(/^# How I plan a month of videos\n\n## Key takeaways\n/);
    const txt = renderExport(doc, 'txt').data.toString('utf8');
    expect(txt).toContain('KEY TAKEAWAYS');
    expect(txt).toContain('- Batch filming saves nine hours');
    expect(txt).not.toContain('**');
  });

  it('docx is a valid zip holding a WordprocessingML document with the text', () => {
    const file = renderExport(doc, 'docx');
    expect(file.mimeType).toBe('application/vnd.openxmlformats-officedocument.wordprocessingml.document');
    const dir = mkdtempSync(join(tmpdir(), 'docx-unit-'));
    try {
      writeFileSync(join(dir, 'a.docx'), file.data);
      const out = execFileSync('python3', [
        '-c',
        'import sys,zipfile,xml.dom.minidom as m; z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; [m.parseString(z.read(n)) for n in z.namelist()]; print(z.read("word/document.xml").decode())',
        join(dir, 'a.docx'),
      ]).toString();
      expect(out).toContain('<w:pStyle w:val="Heading2"/>');
      expect(out).toContain('Batch filming saves nine hours a week (lights stay up) &amp; costs nothing.');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('pdf has a correct cross-reference table, several pages and the text in WinAnsi', () => {
    const pdf = renderExport(doc, 'pdf').data;
    const text = pdf.toString('latin1');
    expect(text.startsWith('%PDF-1.4\n')).toBe(true);
    expect(text.endsWith('%%EOF\n')).toBe(true);
    const startxref = Number(/startxref\n(\d+)\n%%EOF\n$/.exec(text)![1]);
    expect(text.slice(startxref, startxref + 4)).toBe('xref');
    const [, first, count] = /^xref\n(\d+) (\d+)\n/.exec(text.slice(startxref))!;
    expect(first).toBe('0');
    const entries = text
      .slice(startxref)
      .split('\n')
      .slice(3, 2 + Number(count));
    entries.forEach((entry, i) => {
      const offset = Number(entry.slice(0, 10));
      expect(text.slice(offset, offset + `${i + 1} 0 obj`.length)).toBe(`${i + 1} 0 obj`);
    });
    for (const [, length, stream] of text.matchAll(/<< \/Length (\d+) >>\nstream\n([\s\S]*?)\nendstream/g))
      expect(Buffer.byteLength(stream!, 'latin1')).toBe(Number(length));
    expect(Number(/\/Count (\d+)/.exec(text)![1])).toBeGreaterThan(1);
    expect(text).toContain('(A paragraph with a backslash \\\\ and parentheses \\(like these\\), an em dash \x97 and \x93quotes\x94.');
  });
});
