/**
 * OpenAPI 3.1 from what the gateway actually routes: each alias with its action's `params`
 * (fastest-validator rules), `auth`, `roles` and `summary`. Nothing to keep in sync by hand.
 */
type Rule = string | Record<string, unknown> | Rule[];
type JsonSchema = Record<string, unknown>;

export interface RouteInfo {
	method: string;
	path: string;
	/** an upload (moleculer-web's multipart alias): the body is multipart/form-data with one file */
	multipart?: boolean;
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
		case "url":
		case "uuid":
			Object.assign(s, { type: "string", format: r.type === "url" ? "uri" : r.type });
			if (r.max != null) s.maxLength = r.max;
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
		case "record":
			Object.assign(s, {
				type: "object",
				propertyNames: toJsonSchema((r.key ?? "string") as Rule),
				additionalProperties: toJsonSchema((r.value ?? "any") as Rule),
			});
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
	// `$$strict` and the like are options; `$filename` and the like are what the gateway adds to uploads.
	const entries = Object.entries(props).filter(([k]) => !k.startsWith("$"));
	const required = entries.filter(([, r]) => !isOptional(r)).map(([k]) => k);
	return {
		type: "object",
		properties: Object.fromEntries(entries.map(([k, r]) => [k, toJsonSchema(r)])),
		...(required.length ? { required } : {}),
	};
}

const problemRef = { $ref: "#/components/responses/Problem" };

const words = (segment: string) => segment.split(/[^A-Za-z0-9]+/).filter(Boolean);
const capital = (w: string) => w.charAt(0).toUpperCase() + w.slice(1);

/**
 * A public, stable operation id from the method and the public path, never the action's name (which is
 * internal: README, The gateway): `GET /api/leads/{id}` → `getLeadsById`, `POST /api/auth/password/forgot`
 * → `postAuthPasswordForgot`. Unique because (method, path) is.
 */
export function operationId(method: string, oaPath: string): string {
	const parts = oaPath
		.split("/")
		.filter(Boolean)
		.filter((seg, i) => !(i === 0 && seg === "api"))
		.map(seg => {
			const param = /^\{(\w+)\}$/.exec(seg);
			return param ? `By${capital(param[1])}` : words(seg).map(capital).join("");
		});
	return method.toLowerCase() + parts.join("");
}

/** The tag of an operation: the first segment of its public path (`/api/leads/…` → `leads`). */
const tagOf = (oaPath: string) =>
	oaPath
		.split("/")
		.filter(Boolean)
		.find((seg, i) => !(i === 0 && seg === "api") && !seg.startsWith("{")) ?? "api";

export function buildOpenApi(routes: RouteInfo[], info: { title: string; version: string }) {
	const paths: Record<string, Record<string, unknown>> = {};
	for (const { method, path, action, multipart } of routes) {
		const pathParams = [...path.matchAll(/[:{]\/?:?(\w+)/g)].map(m => m[1]);
		const oaPath = path.replace(/\{\/:(\w+)\}/g, "/{$1}").replace(/:(\w+)/g, "{$1}");
		const params = action.params ?? {};
		const bodyProps = Object.fromEntries(Object.entries(params).filter(([k]) => !pathParams.includes(k) && !k.startsWith("$")));
		const m = method.toLowerCase();
		const oaMethod = m === "*" ? "post" : m;
		const usesQuery = m === "get" || m === "delete" || m === "head";
		const op: Record<string, unknown> = {
			operationId: operationId(oaMethod, oaPath),
			summary: action.summary ?? `${oaMethod.toUpperCase()} ${oaPath}`,
			tags: [tagOf(oaPath)],
			parameters: [
				...pathParams.map(name => ({
					name,
					in: "path",
					required: true,
					schema: params[name] ? toJsonSchema(params[name]) : { type: "string" },
				})),
				...(usesQuery
					? Object.entries(bodyProps)
							.filter(([k]) => !k.startsWith("$$"))
							.map(([name, r]) => ({ name, in: "query", required: !isOptional(r), schema: toJsonSchema(r) }))
					: []),
			],
			responses: { "2XX": { description: "Success" }, "4XX": problemRef, "5XX": problemRef },
		};
		if (multipart)
			op.requestBody = {
				required: true,
				content: {
					"multipart/form-data": {
						schema: { type: "object", properties: { file: { type: "string", format: "binary" } }, required: ["file"] },
					},
				},
			};
		else if (!usesQuery && Object.keys(bodyProps).length)
			op.requestBody = { required: true, content: { "application/json": { schema: objectSchema(bodyProps as Record<string, Rule>) } } };
		if ((action.auth ?? "required") !== "public") op.security = [{ bearerAuth: [] }];
		if (action.roles?.length) op.description = `Requires role: ${action.roles.join(" or ")}.`;
		(paths[oaPath] ??= {})[oaMethod] = op;
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
									errors: {
										type: "array",
										items: { type: "object", properties: { field: { type: "string" }, message: { type: "string" } } },
									},
								},
							},
						},
					},
				},
			},
		},
	};
}
