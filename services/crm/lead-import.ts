/**
 * CSV import of leads: the text parsed without holding the process (csv.ts), and each record mapped
 * to the same input `createLead` takes and checked with the same rules as the actions' params.
 * Columns: name,email,phone,company,country,source,amount,currency and cf_<key> for custom fields.
 */
import Validator from "fastest-validator";
import { InvalidCsvError, TooManyImportRowsError } from "../../lib/errors";
import { harden } from "../../lib/validation";
import { parseCsv, TooManyRowsError } from "./csv";
import { leadInputParams, type LeadInput } from "./lead-model";

export const IMPORT_MAX_ROWS = 5000;
/** One CSV row: room for every column at its longest (30 custom fields of 500 characters, …). */
const IMPORT_MAX_RECORD_CHARS = 64 * 1024;
// CSV rows get the broker's rules too: length before pattern, null only where nullable (README: Security).
const check = harden(new Validator({ useNewCustomCheckerFunction: true })).compile({ $$strict: "remove", ...leadInputParams });

export type FieldError = { field: string; message: string };

/** The records of a CSV text (header row first): 413 TOO_MANY_ROWS, 422 INVALID_CSV. */
export async function parseLeadCsv(csv: string): Promise<Record<string, string>[]> {
	try {
		return await parseCsv<Record<string, string>>(csv, {
			columns: (h: string[]) => h.map(c => c.trim()),
			skip_empty_lines: true,
			trim: true,
			bom: true,
			relax_column_count: true,
			maxRows: IMPORT_MAX_ROWS,
			maxRecordSize: IMPORT_MAX_RECORD_CHARS,
		});
	} catch (err) {
		if (err instanceof TooManyRowsError) throw new TooManyImportRowsError(IMPORT_MAX_ROWS);
		throw new InvalidCsvError((err as Error).message);
	}
}

/** One record as a lead's input, or what is wrong with it. */
export function leadFromRecord(r: Record<string, string>): { input: LeadInput } | { errors: FieldError[] } {
	const customFields = Object.fromEntries(
		Object.entries(r)
			.filter(([k, v]) => k.startsWith("cf_") && v !== "")
			.map(([k, v]) => [k.slice(3), v]),
	);
	// Built loosely (an amount may be missing): `check` says whether it is a lead's input.
	const input: Record<string, unknown> = {};
	for (const k of ["name", "email", "phone", "company", "country", "source"]) if (r[k]) input[k] = r[k];
	if (input.country) input.country = String(input.country).toUpperCase();
	if (r.amount || r.currency)
		input.value = { amount: r.amount === "" || r.amount == null ? undefined : Number(r.amount), currency: r.currency?.toUpperCase() };
	if (Object.keys(customFields).length) input.customFields = customFields;
	const result = check(input);
	if (result !== true) return { errors: (result as FieldError[]).map(e => ({ field: e.field, message: e.message })) };
	// `check` accepted it: it has the shape of the params it was compiled from.
	return { input: input as Partial<LeadInput> as LeadInput };
}
