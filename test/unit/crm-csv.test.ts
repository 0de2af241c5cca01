/** CSV import parsing (services/crm/csv.ts): limits, and other work goes on while a large text is parsed. */
import { parseCsv, TooManyRowsError } from "../../services/crm/csv";

const opts = { columns: true, trim: true, skip_empty_lines: true, maxRows: 5000, maxRecordSize: 64 * 1024 };
const rows = (n: number) => ["name,email", ...Array.from({ length: n }, (_, i) => `Lead ${i},lead${i}@example.com`)].join("\n");

describe("CSV parsing for the lead import", () => {
	it("reads records by header", async () => {
		expect(await parseCsv('name,email\n Ann , ann@example.com\n"Bo, Jr",bo@example.com\n', opts)).toEqual([
			{ name: "Ann", email: "ann@example.com" },
			{ name: "Bo, Jr", email: "bo@example.com" },
		]);
	});

	it("refuses a row longer than the record limit before parsing anything", async () => {
		const started = performance.now();
		await expect(parseCsv("@".repeat(1_000_000), opts)).rejects.toThrow(/longer than 65536/);
		expect(performance.now() - started).toBeLessThan(50);
		// Quoted fields spanning lines are still limited as a whole.
		await expect(parseCsv(`name\n"${"a\n".repeat(40_000)}"`, opts)).rejects.toThrow(/Max Record Size/);
	});

	it("stops at the row limit", async () => {
		await expect(parseCsv(rows(5001), opts)).rejects.toBeInstanceOf(TooManyRowsError);
		expect(await parseCsv(rows(5000), opts)).toHaveLength(5000);
	});

	it("lets other work run while it parses", async () => {
		let ranDuringParse = false;
		let parsing = true;
		setImmediate(() => (ranDuringParse = parsing));
		await parseCsv(rows(5000), opts);
		parsing = false;
		expect(ranDuringParse).toBe(true);
	});
});
