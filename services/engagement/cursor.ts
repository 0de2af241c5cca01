/** Opaque list cursors of the engagement domain: base64url JSON of the last row's sort value and id. */
import { InvalidCursorError } from "../../lib/errors";

export interface CursorValue {
	v: string | number;
	id: string;
}

export function encodeCursor(value: CursorValue): string {
	return Buffer.from(JSON.stringify(value)).toString("base64url");
}

export function decodeCursor(cursor: string): CursorValue {
	try {
		const value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as CursorValue;
		if ((typeof value.v === "string" || typeof value.v === "number") && typeof value.id === "string") return value;
	} catch {
		/* answered below */
	}
	throw new InvalidCursorError();
}

/** The store condition "after this cursor" for a sort on `field` (descending when `desc`), ties broken by id. */
export function afterCursor(field: string, desc: boolean, c: CursorValue): Record<string, unknown> {
	const op = desc ? "$lt" : "$gt";
	return { $or: [{ [field]: { [op]: c.v } }, { [field]: c.v, _id: { [op]: c.id } }] };
}
