import { buildOpenApi, operationId, toJsonSchema } from "../../lib/openapi";

describe("OpenAPI from action params", () => {
	it("converts fastest-validator rules", () => {
		expect(toJsonSchema("string|min:3|max:10")).toEqual({ type: "string", minLength: 3, maxLength: 10 });
		expect(toJsonSchema({ type: "number", integer: true, min: 1 })).toEqual({ type: "integer", minimum: 1 });
		expect(toJsonSchema({ type: "enum", values: ["a", "b"] })).toEqual({ enum: ["a", "b"] });
		expect(toJsonSchema({ type: "array", items: "email" })).toEqual({ type: "array", items: { type: "string", format: "email" } });
	});

	it("puts path params in the path, GET params in the query, others in the body", () => {
		const doc = buildOpenApi(
			[
				{ method: "GET", path: "/api/notes/:id", action: { name: "notes.get", params: { id: "string", fields: "string|optional" } } },
				{ method: "POST", path: "/api/notes", action: { name: "notes.create", auth: "public", params: { title: "string" } } },
			],
			{ title: "t", version: "1" },
		);
		const get = doc.paths["/api/notes/{id}"].get as any;
		expect(get.operationId).toBe("getNotesById");
		expect((doc.paths["/api/notes"].post as any).operationId).toBe("postNotes");
		expect(get.parameters).toEqual([
			{ name: "id", in: "path", required: true, schema: { type: "string" } },
			{ name: "fields", in: "query", required: false, schema: { type: "string" } },
		]);
		expect(get.security).toEqual([{ bearerAuth: [] }]);
		const post = doc.paths["/api/notes"].post as any;
		expect(post.requestBody.content["application/json"].schema).toEqual({
			type: "object",
			properties: { title: { type: "string" } },
			required: ["title"],
		});
		expect(post.security).toBeUndefined();
	});

	it("names operations after their public method and path, never after the action", () => {
		expect(operationId("get", "/api/leads/{id}")).toBe("getLeadsById");
		expect(operationId("post", "/api/auth/password/forgot")).toBe("postAuthPasswordForgot");
		expect(operationId("get", "/api/leads/ingest-keys")).toBe("getLeadsIngestKeys");
		expect(operationId("post", "/api/public/leads/{tenantSlug}")).toBe("postPublicLeadsByTenantSlug");
		const doc = buildOpenApi([{ method: "GET", path: "/api/leads/:id", action: { name: "leads.getLead" } }], { title: "t", version: "1" });
		const op = doc.paths["/api/leads/{id}"].get as any;
		expect(op.tags).toEqual(["leads"]);
		expect(JSON.stringify(doc)).not.toContain("leads.getLead");
	});

	it("documents max lengths of formatted strings and record keys", () => {
		expect(toJsonSchema({ type: "email", max: 254 })).toEqual({ type: "string", format: "email", maxLength: 254 });
		expect(toJsonSchema({ type: "record", key: "string|max:40", value: "number" })).toEqual({
			type: "object",
			propertyNames: { type: "string", maxLength: 40 },
			additionalProperties: { type: "number" },
		});
	});
});
