import { buildOpenApi, toJsonSchema } from "../../lib/openapi";

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
		expect(get.parameters).toEqual([
			{ name: "id", in: "path", required: true, schema: { type: "string" } },
			{ name: "fields", in: "query", required: false, schema: { type: "string" } },
		]);
		expect(get.security).toEqual([{ bearerAuth: [] }]);
		const post = doc.paths["/api/notes"].post as any;
		expect(post.requestBody.content["application/json"].schema).toEqual({ type: "object", properties: { title: { type: "string" } }, required: ["title"] });
		expect(post.security).toBeUndefined();
	});
});
