// Regenerates schemas/*.schema.json from the zod schemas (run: npm run schemas). A test fails when they are out of date.
import { writeFileSync } from 'node:fs';
import { jsonSchemaOf, SCHEMAS } from '../dist/store/schemas.js';

for (const name of Object.keys(SCHEMAS)) {
  const file = new URL(`../schemas/${name}.schema.json`, import.meta.url);
  writeFileSync(file, JSON.stringify(jsonSchemaOf(name), null, 2) + '\n');
  console.log(`wrote schemas/${name}.schema.json`);
}
