import { crc32, deflateRawSync } from 'node:zlib';

/**
 * Renders generated content (markdown-flavoured text) as the files users export: md, txt,
 * docx (Office Open XML in a zip) and pdf (PDF 1.4 with the standard Helvetica fonts). Small
 * hand-written generators instead of a dependency: the content is paragraphs, headings and
 * list items, nothing more.
 */
export type ExportFormat = 'docx' | 'pdf' | 'txt' | 'md';

export interface ExportDocument {
  title: string;
  /** Markdown-flavoured: `#` headings, `-`/`*`/`1.` list items, blank lines between paragraphs. */
  body: string;
}

export interface RenderedFile {
  data: Buffer;
  mimeType: string;
  extension: string;
}

export const EXPORT_MIME_TYPES: Record<ExportFormat, string> = {
  md: 'text/markdown',
  txt: 'text/plain',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  pdf: 'application/pdf',
};

type Block =
  { kind: 'heading'; level: number; text: string } | { kind: 'item'; marker: string; text: string } | { kind: 'paragraph'; text: string };

/** Strips inline markdown (emphasis, code, links) that would otherwise show as literal characters. */
function plainInline(text: string): string {
  return text
    .replace(/\[([^\]]+)\]\(([^)]+)\)/g, '$1 ($2)')
    .replace(/(\*\*|__)(.+?)\1/g, '$2')
    .replace(/(^|[^*\w])[*_]([^*_\n]+)[*_](?=[^*\w]|$)/g, '$1$2')
    .replace(/`([^`]+)`/g, '$1');
}

export function parseBlocks(body: string): Block[] {
  const blocks: Block[] = [];
  let paragraph: string[] = [];
  const flush = () => {
    if (paragraph.length > 0) blocks.push({ kind: 'paragraph', text: plainInline(paragraph.join(' ')) });
    paragraph = [];
  };
  for (const raw of body.replace(/\r\n?/g, '\n').split('\n')) {
    const line = raw.trim();
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    const item = /^([-*•]|\d{1,3}[.)])\s+(.*)$/.exec(line);
    if (!line) flush();
    else if (heading) {
      flush();
      blocks.push({ kind: 'heading', level: heading[1]!.length, text: plainInline(heading[2]!) });
    } else if (item) {
      flush();
      blocks.push({ kind: 'item', marker: /^\d/.test(item[1]!) ? item[1]! : '•', text: plainInline(item[2]!) });
    } else paragraph.push(line);
  }
  flush();
  return blocks;
}

function renderText(doc: ExportDocument): string {
  const lines = [doc.title, '='.repeat(Math.min(doc.title.length, 80)), ''];
  for (const block of parseBlocks(doc.body)) {
    if (block.kind === 'heading') lines.push('', block.text.toUpperCase(), '');
    else if (block.kind === 'item') lines.push(`${block.marker === '•' ? '-' : block.marker} ${block.text}`);
    else lines.push(block.text, '');
  }
  return `${lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()}\n`;
}

// ---- docx ----------------------------------------------------------------------------------

/** Characters XML 1.0 forbids (control codes other than tab/newline) would make Word refuse the file. */
const xmlAllowed = (ch: string) => {
  const code = ch.charCodeAt(0);
  return (code >= 32 || code === 9 || code === 10 || code === 13) && code !== 0xfffe && code !== 0xffff;
};

const xmlEscape = (s: string) =>
  [...s].filter(xmlAllowed).join('').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const W_NS = 'http://schemas.openxmlformats.org/wordprocessingml/2006/main';

function docxParagraph(text: string, style?: string): string {
  const props = style ? `<w:pPr><w:pStyle w:val="${style}"/></w:pPr>` : '';
  return `<w:p>${props}<w:r><w:t xml:space="preserve">${xmlEscape(text)}</w:t></w:r></w:p>`;
}

function docxDocument(doc: ExportDocument): string {
  const body = parseBlocks(doc.body).map((block) => {
    if (block.kind === 'heading') return docxParagraph(block.text, block.level === 1 ? 'Heading1' : 'Heading2');
    if (block.kind === 'item') return docxParagraph(`${block.marker}\t${block.text}`, 'ListItem');
    return docxParagraph(block.text);
  });
  return (
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="${W_NS}"><w:body>` +
    docxParagraph(doc.title, 'Title') +
    body.join('') +
    '<w:sectPr><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1440" w:right="1440" w:bottom="1440" w:left="1440" w:header="708" w:footer="708" w:gutter="0"/></w:sectPr>' +
    '</w:body></w:document>'
  );
}

const style = (id: string, name: string, run: string, paragraph = '') =>
  `<w:style w:type="paragraph" w:styleId="${id}"><w:name w:val="${name}"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:pPr>${paragraph}</w:pPr><w:rPr>${run}</w:rPr></w:style>`;

const DOCX_STYLES =
  `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:styles xmlns:w="${W_NS}">` +
  '<w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii="Calibri" w:hAnsi="Calibri" w:cs="Calibri"/><w:sz w:val="22"/></w:rPr></w:rPrDefault><w:pPrDefault><w:pPr><w:spacing w:after="160" w:line="276" w:lineRule="auto"/></w:pPr></w:pPrDefault></w:docDefaults>' +
  '<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/></w:style>' +
  style('Title', 'Title', '<w:b/><w:sz w:val="40"/>', '<w:spacing w:after="240"/>') +
  style(
    'Heading1',
    'heading 1',
    '<w:b/><w:sz w:val="32"/>',
    '<w:keepNext/><w:spacing w:before="240" w:after="120"/><w:outlineLvl w:val="0"/>',
  ) +
  style(
    'Heading2',
    'heading 2',
    '<w:b/><w:sz w:val="26"/>',
    '<w:keepNext/><w:spacing w:before="200" w:after="80"/><w:outlineLvl w:val="1"/>',
  ) +
  style(
    'ListItem',
    'List Paragraph',
    '',
    '<w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs><w:spacing w:after="60"/><w:ind w:left="720" w:hanging="360"/>',
  ) +
  '</w:styles>';

const DOCX_CONTENT_TYPES =
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
  '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>' +
  '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>' +
  '<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>' +
  '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/></Types>';

const REL_NS = 'http://schemas.openxmlformats.org/package/2006/relationships';
const DOCX_ROOT_RELS =
  `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="${REL_NS}">` +
  '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>' +
  '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/></Relationships>';
const DOCX_DOCUMENT_RELS =
  `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="${REL_NS}">` +
  '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>';

const docxCore = (title: string) =>
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">' +
  `<dc:title>${xmlEscape(title)}</dc:title></cp:coreProperties>`;

/** A zip archive (deflate, no zip64) of the given entries, in order. */
export function zip(entries: Array<{ name: string; data: Buffer }>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  // MS-DOS timestamp 1980-01-01 00:00: a fixed date keeps the output reproducible.
  const dosTime = 0;
  const dosDate = (0 << 9) | (1 << 5) | 1;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const compressed = deflateRawSync(entry.data);
    const crc = crc32(entry.data);
    // Local and central headers share one run of fields: version needed, UTF-8 names, deflate,
    // time, date, CRC, sizes, name length.
    const writeEntryFields = (header: Buffer, at: number) => {
      header.writeUInt16LE(20, at);
      header.writeUInt16LE(0x0800, at + 2);
      header.writeUInt16LE(8, at + 4);
      header.writeUInt16LE(dosTime, at + 6);
      header.writeUInt16LE(dosDate, at + 8);
      header.writeUInt32LE(crc, at + 10);
      header.writeUInt32LE(compressed.length, at + 14);
      header.writeUInt32LE(entry.data.length, at + 18);
      header.writeUInt16LE(name.length, at + 22);
    };
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    writeEntryFields(local, 4);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4); // version made by
    writeEntryFields(central, 6);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, compressed);
    centrals.push(central, name);
    offset += local.length + name.length + compressed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

function renderDocx(doc: ExportDocument): Buffer {
  const utf8 = (s: string) => Buffer.from(s, 'utf8');
  return zip([
    { name: '[Content_Types].xml', data: utf8(DOCX_CONTENT_TYPES) },
    { name: '_rels/.rels', data: utf8(DOCX_ROOT_RELS) },
    { name: 'docProps/core.xml', data: utf8(docxCore(doc.title)) },
    { name: 'word/_rels/document.xml.rels', data: utf8(DOCX_DOCUMENT_RELS) },
    { name: 'word/styles.xml', data: utf8(DOCX_STYLES) },
    { name: 'word/document.xml', data: utf8(docxDocument(doc)) },
  ]);
}

// ---- pdf -----------------------------------------------------------------------------------

/** Helvetica advance widths (1/1000 em) for ASCII 32-126, from the standard Adobe font metrics. */
const HELVETICA_WIDTHS = [
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278,
  278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722,
  667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556,
  556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];
/** Typographic characters outside Latin-1 that WinAnsiEncoding places in 0x80-0x9f. */
const WIN_ANSI_EXTRA: Record<string, number> = {
  '€': 0x80,
  '…': 0x85,
  '‘': 0x91,
  '’': 0x92,
  '“': 0x93,
  '”': 0x94,
  '•': 0x95,
  '–': 0x96,
  '—': 0x97,
  '™': 0x99,
};

/** A string as WinAnsi byte codes; characters the standard fonts cannot show become '?'. */
function winAnsi(text: string): number[] {
  return [...text].map((ch) => {
    const code = ch.codePointAt(0) ?? 63;
    if ((code >= 32 && code <= 126) || (code >= 160 && code <= 255)) return code;
    return WIN_ANSI_EXTRA[ch] ?? (ch === '\t' ? 32 : 63);
  });
}

const charWidth = (code: number) => (code >= 32 && code <= 126 ? HELVETICA_WIDTHS[code - 32]! : 556);

/** Greedy word wrap by measured width (bold is ~5 % wider than regular Helvetica). */
function wrap(codes: number[], maxWidth: number, size: number, bold: boolean): number[][] {
  const scale = (size / 1000) * (bold ? 1.05 : 1);
  const lines: number[][] = [];
  let line: number[] = [];
  let width = 0;
  const words: number[][] = [];
  let word: number[] = [];
  for (const c of codes) {
    if (c === 32) {
      if (word.length) words.push(word);
      word = [];
    } else word.push(c);
  }
  if (word.length) words.push(word);
  for (const w of words) {
    const wWidth = w.reduce((sum, c) => sum + charWidth(c), 0) * scale;
    const space = line.length ? charWidth(32) * scale : 0;
    if (line.length && width + space + wWidth > maxWidth) {
      lines.push(line);
      line = [];
      width = 0;
    }
    if (line.length) {
      line.push(32);
      width += charWidth(32) * scale;
    }
    line.push(...w);
    width += wWidth;
  }
  if (line.length) lines.push(line);
  return lines.length ? lines : [[]];
}

function pdfString(codes: number[]): string {
  return `(${codes.map((c) => (c === 40 || c === 41 || c === 92 ? `\\${String.fromCharCode(c)}` : String.fromCharCode(c))).join('')})`;
}

const PAGE = { width: 595, height: 842, margin: 56 };

function renderPdf(doc: ExportDocument): Buffer {
  const pages: string[][] = [[]];
  let y = PAGE.height - PAGE.margin;
  const maxWidth = PAGE.width - 2 * PAGE.margin;
  const write = (text: string, size: number, bold: boolean, indent = 0, spaceAfter = size * 0.6) => {
    for (const line of wrap(winAnsi(text), maxWidth - indent, size, bold)) {
      if (y - size < PAGE.margin) {
        pages.push([]);
        y = PAGE.height - PAGE.margin;
      }
      y -= size * 1.3;
      pages[pages.length - 1]!.push(
        `BT /${bold ? 'F2' : 'F1'} ${size} Tf ${PAGE.margin + indent} ${y.toFixed(1)} Td ${pdfString(line)} Tj ET`,
      );
    }
    y -= spaceAfter;
  };
  write(doc.title, 18, true, 0, 10);
  for (const block of parseBlocks(doc.body)) {
    if (block.kind === 'heading') write(block.text, block.level === 1 ? 14 : 12, true, 0, 4);
    else if (block.kind === 'item') write(`${block.marker} ${block.text}`, 11, false, 14, 2);
    else write(block.text, 11, false);
  }

  const objects: string[] = [];
  const pageIds = pages.map((_, i) => 5 + i * 2);
  objects[1] = '<< /Type /Catalog /Pages 2 0 R >>';
  objects[2] = `<< /Type /Pages /Kids [${pageIds.map((id) => `${id} 0 R`).join(' ')}] /Count ${pages.length} >>`;
  objects[3] = '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>';
  objects[4] = '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>';
  pages.forEach((ops, i) => {
    const stream = ops.join('\n');
    objects[pageIds[i]!] =
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${PAGE.width} ${PAGE.height}] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents ${pageIds[i]! + 1} 0 R >>`;
    objects[pageIds[i]! + 1] = `<< /Length ${Buffer.byteLength(stream, 'latin1')} >>\nstream\n${stream}\nendstream`;
  });
  objects.push(`<< /Title ${pdfString(winAnsi(doc.title))} /Producer (creator-jobs-platform) >>`);
  const infoId = objects.length - 1;

  // Offsets are byte positions; every string here is Latin-1, one byte per character.
  let out = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  const offsets: number[] = [];
  for (let id = 1; id < objects.length; id++) {
    offsets[id] = Buffer.byteLength(out, 'latin1');
    out += `${id} 0 obj\n${objects[id]}\nendobj\n`;
  }
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objects.length}\n0000000000 65535 f \n`;
  for (let id = 1; id < objects.length; id++) out += `${String(offsets[id]).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length} /Root 1 0 R /Info ${infoId} 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

export function renderExport(doc: ExportDocument, format: ExportFormat): RenderedFile {
  const mimeType = EXPORT_MIME_TYPES[format];
  switch (format) {
    case 'md':
      return { data: Buffer.from(`# ${doc.title}\n\n${doc.body.trim()}\n`, 'utf8'), mimeType, extension: 'md' };
    case 'txt':
      return { data: Buffer.from(renderText(doc), 'utf8'), mimeType, extension: 'txt' };
    case 'docx':
      return { data: renderDocx(doc), mimeType, extension: 'docx' };
    case 'pdf':
      return { data: renderPdf(doc), mimeType, extension: 'pdf' };
  }
}
