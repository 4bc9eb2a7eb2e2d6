// Build peerreview's front-end assets from node_modules.
//
// Compiles src/app.scss to css/app.css, copies GOV.UK Frontend's ES module
// bundle to js/ and our own favicon to images/. GOV.UK's fonts (GDS Transport)
// and its crown icons are deliberately never copied: they are for GOV.UK only.
// Run with `npm run build:frontend`; the outputs are committed.
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as sass from "sass";

const staticDir = dirname(fileURLToPath(import.meta.url));
const govukDist = join(staticDir, "..", "..", "node_modules", "govuk-frontend", "dist", "govuk");

function write(relativePath, contents) {
  const target = join(staticDir, relativePath);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, contents);
  console.log(`wrote ${relativePath}`);
}

function copy(source, relativePath) {
  const target = join(staticDir, relativePath);
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(source, target);
  console.log(`copied ${relativePath}`);
}

const result = sass.compile(join(staticDir, "src", "app.scss"), {
  style: "compressed",
  importers: [new sass.NodePackageImporter(staticDir)],
  // GOV.UK Frontend's own deprecation notices are not ours to fix.
  quietDeps: true,
});
if (/GDS Transport|\.woff2?\b|govuk-crest/i.test(result.css)) {
  throw new Error("app.css refers to GOV.UK fonts or crest; check src/app.scss");
}
write("css/app.css", result.css + "\n");

// Drop the source map comment: the map itself is not shipped.
const bundle = readFileSync(join(govukDist, "govuk-frontend.min.js"), "utf8")
  .replace(/\n?\/\/# sourceMappingURL=.*\s*$/, "\n");
write("js/govuk-frontend.min.js", bundle);

rmSync(join(staticDir, "fonts"), { recursive: true, force: true });
copy(join(staticDir, "src", "favicon.svg"), "images/favicon.svg");
