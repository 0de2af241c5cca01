/**
 * The template rules on their own: strict parsing with positions, static variable checks through every
 * branch, no file access, computed lookups refused, escaping only in e-mail HTML, late variables only in
 * e-mail and push, the built-in messages rendering with their declared variables.
 */
import { BUILTIN_TEMPLATES, checkParts, checkSource, missingVariables, renderPart } from "../../lib/templates";

const common = { recipient: { id: "u1", name: "Ada" }, app: { name: "Valence", url: "https://app.example" } };

describe("notification templates (Liquid, strict)", () => {
	it("reports every unknown variable, in any branch, with its line and column", () => {
		const issues = checkSource("inApp", "body", "Hi {{ recipient.name }}\n{% if false %}{{ secret }}{% endif %}\n  {{ lead.nope }}", [
			"recipient.name",
			"lead.id",
		]);
		expect(issues).toEqual([
			{ field: "inApp.body", message: "line 2, column 18: unknown variable 'secret' (this message has: recipient.name, lead.id)" },
			{ field: "inApp.body", message: "line 3, column 6: unknown variable 'lead.nope' (this message has: recipient.name, lead.id)" },
		]);
	});

	it("allows declared paths, their parents, and size/first/last of them; locals of loops and assigns", () => {
		expect(checkSource("inApp", "body", "{% if lead %}{{ lead.id | upcase }} {{ lead.id.size }}{% endif %}", ["lead.id"])).toEqual([]);
		expect(
			checkSource("inApp", "body", "{% assign n = lead.id %}{{ n }}{% for x in lead.tags %}{{ x }}{{ forloop.index }}{% endfor %}", [
				"lead.id",
				"lead.tags",
			]),
		).toEqual([]);
	});

	it("refuses what does not parse, unknown filters, files and computed lookups", () => {
		expect(checkSource("push", "title", "{{ a | nofilter }}", ["a"])[0].message).toBe("line 1, column 1: undefined filter: nofilter");
		expect(checkSource("push", "title", "x\n{% for a in b %}", ["b"])[0].message).toMatch(/^line 2, column 1: tag \{% for a in b %\} not closed/);
		expect(checkSource("push", "title", "{{ 'unclosed }}", [])[0].message).toMatch(/^line 1/);
		expect(checkSource("email", "html", "<p>\n{%- render 'x' -%}", [])[0].message).toBe(
			"line 2: include, render and layout are not available in notification templates",
		);
		expect(checkSource("email", "html", "{% layout 'x' %}", [])[0].message).toMatch(/not available/);
		expect(checkSource("inApp", "title", "{{ a[b] }}", ["a.x", "b"])[0].message).toMatch(/computed lookup/);
	});

	it("escapes variables in e-mail HTML only, and `raw` does not undo it there", () => {
		const vars = { ...common, x: `<a href="javascript:alert(1)">&</a>` };
		const html = renderPart("email", { subject: "{{ x }}", html: "<p>{{ x }}</p><p>{{ x | raw }}</p>", text: "{{ x }}" }, vars);
		expect(html.html).toBe(
			"<p>&lt;a href=&#34;javascript:alert(1)&#34;&gt;&amp;&lt;/a&gt;</p><p>&lt;a href=&#34;javascript:alert(1)&#34;&gt;&amp;&lt;/a&gt;</p>",
		);
		expect(html.subject).toBe(vars.x);
		expect(html.text).toBe(vars.x);
	});

	it("renders strictly: a variable missing at render time is an error, not an empty string", () => {
		expect(() => renderPart("inApp", { title: "{{ who }}", body: "b" }, {})).toThrow(/undefined variable: who/);
		expect(missingVariables({ variables: ["lead.id", "lead.name", "x"] }, { lead: { id: "1", name: null }, x: 0 })).toEqual([]);
		expect(missingVariables({ variables: ["lead.id", "lead.name"] }, { lead: { id: "1" } })).toEqual(["lead.name"]);
		expect(missingVariables({ variables: ["lead.id"] }, { lead: "flat" })).toEqual(["lead.id"]);
	});

	it("keeps late variables (the reset link) out of the in-app part", () => {
		const def = BUILTIN_TEMPLATES["password-reset"];
		expect(checkParts({ email: { subject: "s", html: "{{ resetUrl }}", text: "{{ resetUrl }}" } }, def)).toEqual([]);
		expect(checkParts({ inApp: { title: "t", body: "{{ resetUrl }}" } }, def)[0]).toMatchObject({
			field: "inApp.body",
			message: expect.stringMatching(/unknown variable 'resetUrl'/),
		});
		expect(checkParts({ inApp: { title: "t" } as never }, def)).toEqual([{ field: "inApp.body", message: "is required" }]);
		expect(checkParts({ inApp: { title: "t" } as never }, def, true)).toEqual([]);
	});

	it("renders each built-in message with exactly its declared variables", () => {
		const samples: Record<string, Record<string, unknown>> = {
			"password-reset": { resetId: "r1", expiresAt: "2026-12-01T10:00:00.000Z", resetUrl: "https://app.example/reset-password?token=t" },
			"lead-assigned": { lead: { id: "L1", name: "Wayne", company: null } },
			"new-follower": { follower: { id: "f1", name: "Fay" } },
			mention: { author: { id: "a1", name: "Al" }, post: { id: "p1" }, place: "comment" },
			comment: { commenter: { id: "c1", name: "Cy" }, post: { id: "p1" } },
			invitation: {
				invitationId: "i1",
				tenant: { id: "t1", name: "Acme" },
				inviter: { name: "Ida" },
				role: "member",
				expiresAt: "2026-12-09T10:00:00.000Z",
			},
		};
		for (const def of Object.values(BUILTIN_TEMPLATES)) {
			const vars = { ...common, ...samples[def.key] };
			expect(missingVariables(def, vars)).toEqual([]);
			for (const channel of def.channels) {
				const out = renderPart(channel, def.parts[channel] as Record<string, string>, vars);
				for (const value of Object.values(out)) expect(value.length).toBeGreaterThan(0);
			}
		}
		const reset = renderPart("email", BUILTIN_TEMPLATES["password-reset"].parts.email!, { ...common, ...samples["password-reset"] });
		expect(reset.text).toContain("https://app.example/reset-password?token=t");
		expect(reset.text).toContain("until 2026-12-01 10:00 UTC");
		expect(renderPart("inApp", BUILTIN_TEMPLATES["lead-assigned"].parts.inApp!, { ...common, ...samples["lead-assigned"] }).body).toBe(
			"Wayne is assigned to you.",
		);
	});
});
