/**
 * OpenAPI 3.1 from what the gateway actually routes: each alias with its action's `params`
 * (fastest-validator rules), `auth`, `roles` and `summary`. Nothing to keep in sync by hand.
 */
type Rule = string | Record<string, unknown> | Rule[];
type JsonSchema = Record<string, unknown>;

export interface RouteInfo {
	method: string;
	path: string;
	action: {
		name: string;
		params?: Record<string, Rule>;
		auth?: string;
		roles?: string[];
		summary?: string;
		visibility?: string;
	};
}

/** A fastest-validator shorthand ("string|min:3|optional") as an object rule. */
function expand(rule: Rule): Record<string, unknown> {
	if (Array.isArray(rule)) return { type: "multi", rules: rule };
	if (typeof rule !== "string") return rule;
	const [type, ...mods] = rule.split("|");
	const out: Record<string, unknown> = { type };
	for (const mod of mods) {
		const [k, v] = mod.split(":");
		out[k] = v === undefined ? true : Number.isNaN(Number(v)) ? v : Number(v);
	}
	return out;
}

export function toJsonSchema(rule: Rule): JsonSchema {
	const r = expand(rule);
	const s: JsonSchema = {};
	switch (r.type) {
		case "string":
			s.type = "string";
			if (r.min != null) s.minLength = r.min;
			if (r.max != null) s.maxLength = r.max;
			if (r.pattern) s.pattern = String(r.pattern instanceof RegExp ? r.pattern.source : r.pattern);
			break;
		case "email":
			Object.assign(s, { type: "string", format: "email" });
			break;
		case "url":
			Object.assign(s, { type: "string", format: "uri" });
			break;
		case "uuid":
			Object.assign(s, { type: "string", format: "uuid" });
			break;
		case "date":
			Object.assign(s, { type: "string", format: "date-time" });
			break;
		case "number":
			s.type = r.integer ? "integer" : "number";
			if (r.min != null) s.minimum = r.min;
			if (r.max != null) s.maximum = r.max;
			break;
		case "boolean":
			s.type = "boolean";
			break;
		case "enum":
			s.enum = r.values;
			break;
		case "equal":
			s.const = r.value;
			break;
		case "array":
			s.type = "array";
			if (r.items) s.items = toJsonSchema(r.items as Rule);
			if (r.max != null) s.maxItems = r.max;
			break;
		case "object":
			Object.assign(s, objectSchema((r.props ?? r.properties ?? {}) as Record<string, Rule>));
			break;
		case "multi":
			s.oneOf = (r.rules as Rule[]).map(toJsonSchema);
			break;
		default:
			break;
	}
	if (r.default !== undefined && typeof r.default !== "function") s.default = r.default;
	return s;
}

const isOptional = (rule: Rule) => {
	const r = expand(rule);
	return !!r.optional || r.default !== undefined;
};

export function objectSchema(props: Record<string, Rule>): JsonSchema {
	const entries = Object.entries(props).filter(([k]) => !k.startsWith("$$"));
	const required = entries.filter(([, r]) => !isOptional(r)).map(([k]) => k);
	return {
		type: "object",
		properties: Object.fromEntries(entries.map(([k, r]) => [k, toJsonSchema(r)])),
		...(required.length ? { required } : {}),
	};
}

const problemRef = { $ref: "#/components/responses/Problem" };

export function buildOpenApi(routes: RouteInfo[], info: { title: string; version: string }) {
	const paths: Record<string, Record<string, unknown>> = {};
	for (const { method, path, action } of routes) {
		const pathParams = [...path.matchAll(/[:{]\/?:?(\w+)/g)].map(m => m[1]);
		const oaPath = path.replace(/\{\/:(\w+)\}/g, "/{$1}").replace(/:(\w+)/g, "{$1}");
		const params = action.params ?? {};
		const bodyProps = Object.fromEntries(Object.entries(params).filter(([k]) => !pathParams.includes(k)));
		const m = method.toLowerCase();
		const usesQuery = m === "get" || m === "delete" || m === "head";
		const op: Record<string, unknown> = {
			operationId: action.name,
			summary: action.summary ?? action.name,
			tags: [action.name.split(".")[0]],
			parameters: [
				...pathParams.map(name => ({ name, in: "path", required: true, schema: params[name] ? toJsonSchema(params[name]) : { type: "string" } })),
				...(usesQuery
					? Object.entries(bodyProps)
							.filter(([k]) => !k.startsWith("$$"))
							.map(([name, r]) => ({ name, in: "query", required: !isOptional(r), schema: toJsonSchema(r) }))
					: []),
			],
			responses: { "2XX": { description: "Success" }, "4XX": problemRef, "5XX": problemRef },
		};
		if (!usesQuery && Object.keys(bodyProps).length)
			op.requestBody = { required: true, content: { "application/json": { schema: objectSchema(bodyProps as Record<string, Rule>) } } };
		if ((action.auth ?? "required") !== "public") op.security = [{ bearerAuth: [] }];
		if (action.roles?.length) op.description = `Requires role: ${action.roles.join(" or ")}.`;
		(paths[oaPath] ??= {})[m === "*" ? "post" : m] = op;
	}
	return {
		openapi: "3.1.0",
		info,
		servers: [{ url: "/" }],
		paths,
		components: {
			securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
			responses: {
				Problem: {
					description: "RFC 9457 problem details",
					content: {
						"application/problem+json": {
							schema: {
								type: "object",
								properties: {
									type: { type: "string" },
									title: { type: "string" },
									status: { type: "integer" },
									detail: { type: "string" },
									code: { type: "string" },
									requestId: { type: "string" },
									errors: { type: "array", items: { type: "object", properties: { field: { type: "string" }, message: { type: "string" } } } },
								},
							},
						},
					},
				},
			},
		},
	};
}
