/**
 * V8 settings for a node that serves requests, applied before anything else is loaded (bin/valence.ts
 * imports this first). README: "The gateway" → "Garbage collection under load". `V8_TUNING=false`
 * keeps V8's defaults.
 *
 * - No allocation-site pretenuring: under load V8 sees many of a request's objects alive at a young
 *   collection (the requests in flight) and starts allocating those objects in the old generation, where
 *   each dies a few milliseconds later and waits for a full mark-compact. Measured on the every-service
 *   node at 21,000 authenticated requests/s: the old generation grew 4 MB/s and a mark-compact (20–40 ms
 *   pauses over ~100 ms) ran every ~20 s, setting the p99; without pretenuring it grows 0.55 MB/s.
 * - No memory reducer: after a few idle seconds V8 shrinks the heap with full collections, and when the
 *   load comes back it grows it again through more of them (three mark-compacts in the first 3 s, p99
 *   40 ms instead of 5 ms). The cost is memory: a node keeps the heap its busiest time needed.
 */
import v8 from "node:v8";

// the values lib/config.ts (fastest-validator's boolean conversion) reads as false
if (!/^(false|0|off)$/.test(process.env.V8_TUNING ?? "")) v8.setFlagsFromString("--no-allocation-site-pretenuring --no-memory-reducer");
