/**
 * CSV text to records without holding the process: csv-parse works through a megabyte in up to half a
 * second, so the text is fed in small chunks with a turn of the event loop between them (other requests
 * are answered meanwhile), parsing stops as soon as there are more rows than allowed, and one record may
 * not exceed `maxRecordSize` characters (README: Security).
 */
import { parse, type Options } from "csv-parse";

const CHUNK = 4 * 1024;
const nextTurn = () => new Promise<void>(resolve => setImmediate(resolve));

export class TooManyRowsError extends Error {}

/** A line longer than a record may be is a record that is too long: found at native speed, before parsing. */
function assertLinesWithin(text: string, max: number) {
	for (let start = 0; start <= text.length;) {
		let end = text.indexOf("\n", start);
		if (end === -1) end = text.length;
		if (end - start > max) throw new Error(`a row is longer than ${max} characters`);
		start = end + 1;
	}
}

export async function parseCsv<T = Record<string, string>>(text: string, opts: Options & { maxRows: number; maxRecordSize: number }): Promise<T[]> {
	const { maxRows, maxRecordSize, ...options } = opts;
	assertLinesWithin(text, maxRecordSize);
	const parser = parse({ ...options, max_record_size: maxRecordSize });
	const records: T[] = [];
	let failed = false;
	parser.on("data", (record: T) => records.push(record));
	const done = new Promise<void>((resolve, reject) => {
		parser.on("end", resolve);
		parser.on("error", err => {
			failed = true;
			reject(err);
		});
	});
	done.catch(() => undefined); // observed below; never an unhandled rejection when we stop early
	for (let i = 0; i < text.length && !failed; i += CHUNK) {
		if (records.length > maxRows) {
			parser.destroy();
			throw new TooManyRowsError(`more than ${maxRows} rows`);
		}
		parser.write(text.slice(i, i + CHUNK));
		await nextTurn();
	}
	if (!failed) parser.end();
	await done;
	if (records.length > maxRows) throw new TooManyRowsError(`more than ${maxRows} rows`);
	return records;
}
