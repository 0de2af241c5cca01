/**
 * The subset of JSON Schema the generator's answers are described in (and checked against): object
 * with `properties`/`required`/`additionalProperties: false`, string (`maxLength`, `enum`), integer
 * (`minimum`, `maximum`), array (`items`, `maxItems`), and `type: [..., "null"]`. The same schema is
 * sent to the model as its `response_format`, so what is asked for is exactly what is accepted.
 */
export interface JsonSchema {
	type: string | string[];
	properties?: Record<string, JsonSchema>;
	required?: string[];
	additionalProperties?: boolean;
	items?: JsonSchema;
	maxItems?: number;
	enum?: (string | number)[];
	maxLength?: number;
	minLength?: number;
	minimum?: number;
	maximum?: number;
}

const typeOf = (v: unknown): string =>
	v === null ? "null" : Array.isArray(v) ? "array" : typeof v === "number" ? (Number.isInteger(v) ? "integer" : "number") : typeof v;

/** The first reason `value` does not match `schema` (a path and what is wrong), or null. */
export function schemaError(schema: JsonSchema, value: unknown, path = "$"): string | null {
	const types = Array.isArray(schema.type) ? schema.type : [schema.type];
	const t = typeOf(value);
	if (!types.includes(t) && !(t === "integer" && types.includes("number"))) return `${path}: expected ${types.join(" or ")}, got ${t}`;
	if (schema.enum && !schema.enum.includes(value as string | number)) return `${path}: not one of ${schema.enum.join(", ")}`;
	if (typeof value === "string") {
		if (schema.maxLength !== undefined && value.length > schema.maxLength) return `${path}: longer than ${schema.maxLength}`;
		if (schema.minLength !== undefined && value.length < schema.minLength) return `${path}: shorter than ${schema.minLength}`;
	}
	if (typeof value === "number") {
		if (schema.minimum !== undefined && value < schema.minimum) return `${path}: below ${schema.minimum}`;
		if (schema.maximum !== undefined && value > schema.maximum) return `${path}: above ${schema.maximum}`;
	}
	if (Array.isArray(value)) {
		if (schema.maxItems !== undefined && value.length > schema.maxItems) return `${path}: more than ${schema.maxItems} items`;
		for (const [i, item] of value.entries()) {
			const err = schema.items && schemaError(schema.items, item, `${path}[${i}]`);
			if (err) return err;
		}
	}
	if (t === "object") {
		const obj = value as Record<string, unknown>;
		for (const key of schema.required ?? []) if (!(key in obj)) return `${path}.${key}: missing`;
		for (const [key, v] of Object.entries(obj)) {
			const sub = schema.properties?.[key];
			if (!sub) {
				if (schema.additionalProperties === false) return `${path}.${key}: not allowed`;
				continue;
			}
			const err = schemaError(sub, v, `${path}.${key}`);
			if (err) return err;
		}
	}
	return null;
}
