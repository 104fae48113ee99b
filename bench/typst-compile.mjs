// SPDX-License-Identifier: MIT
// Compiles bench/certificate.typ to PDF with Typst (typst.ts's Node binding),
// for bench/peers.sh. The whole process is timed from outside (bench/rusage);
// this prints the in-process split on standard output as one line:
//   setup_ms=… compile_ms=… pdf_ms=… pages=…
// setup = loading the binding and the fonts, compile = layout, pdf = export.
//
//   node typst-compile.mjs CACHE_DIR ROOT MAIN DATA OUT.pdf FONT_DIR…
// CACHE_DIR holds node_modules/ (installed by peers.sh, never globally).
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [cache, root, main, data, out, ...fontDirs] = process.argv.slice(2);
if (!out || fontDirs.length === 0) {
  console.error('usage: node typst-compile.mjs CACHE_DIR ROOT MAIN DATA OUT.pdf FONT_DIR…');
  process.exit(2);
}
const t0 = performance.now();
const require = createRequire(join(cache, 'package.json'));
const { NodeCompiler } = require('@myriaddreamin/typst-ts-node-compiler');
const compiler = NodeCompiler.create({
  workspace: root,
  fontArgs: [{ fontPaths: fontDirs }],
  inputs: { data },
});
const t1 = performance.now();
const result = compiler.compile({ mainFilePath: main });
const doc = result.result;
if (!doc) {
  console.error('typst: compile failed:');
  result.printDiagnostics();
  process.exit(1);
}
const t2 = performance.now();
const pdf = compiler.pdf(doc, { pdfTags: false });
const t3 = performance.now();
writeFileSync(out, pdf);
console.log(`setup_ms=${(t1 - t0).toFixed(1)} compile_ms=${(t2 - t1).toFixed(1)} ` +
            `pdf_ms=${(t3 - t2).toFixed(1)} pages=${doc.numOfPages ?? 0}`);
