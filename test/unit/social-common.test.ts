import {
	canSee,
	decodeCursor,
	encodeCursor,
	exploreScore,
	extractHashtags,
	extractMentions,
	idPrefixAt,
	queryTerms,
	searchTerms,
	timeOfId,
	zeroCounts,
} from "../../services/social/common";
import { sniffType } from "../../services/social/media-storage";
import { newId } from "../../mixins/db.mixin";

describe("social visibility rule", () => {
	const post = (visibility: "public" | "followers" | "private") => ({ authorId: "bob", visibility });
	it("public: everyone, anonymous included", () => {
		expect(canSee(post("public"), null, false)).toBe(true);
		expect(canSee(post("public"), "x", false)).toBe(true);
	});
	it("followers: the author and followers only", () => {
		expect(canSee(post("followers"), null, true)).toBe(false);
		expect(canSee(post("followers"), "x", false)).toBe(false);
		expect(canSee(post("followers"), "x", true)).toBe(true);
		expect(canSee(post("followers"), "bob", false)).toBe(true);
	});
	it("private: the author only, even for followers", () => {
		expect(canSee(post("private"), "x", true)).toBe(false);
		expect(canSee(post("private"), "bob", false)).toBe(true);
	});
});

describe("social cursors", () => {
	it("round-trips and rejects tampered or malformed cursors with 400 INVALID_CURSOR", () => {
		const c = encodeCursor({ t: 1, i: "abc" });
		expect(c).toMatch(/^[\w-]+$/);
		expect(decodeCursor<{ t: number; i: string }>(c, v => typeof v.i === "string")).toEqual({ t: 1, i: "abc" });
		expect(decodeCursor(undefined, () => true)).toBeUndefined();
		for (const bad of ["%%%", Buffer.from("[1,2]").toString("base64url"), Buffer.from('{"i":3}').toString("base64url")]) {
			expect(() => decodeCursor<{ i: string }>(bad, v => typeof v.i === "string")).toThrow(
				expect.objectContaining({ code: 400, type: "INVALID_CURSOR" }),
			);
		}
	});
	it("maps times to id prefixes that bound newId() ids", () => {
		const before = Date.now();
		const id = newId();
		expect(id >= idPrefixAt(before)).toBe(true);
		expect(id < idPrefixAt(Date.now() + 1)).toBe(true);
		expect(Math.abs(timeOfId(id) - before)).toBeLessThan(1000);
	});
});

describe("social text parsing", () => {
	it("extracts hashtags (lowercased, unique) and mentions", () => {
		expect(extractHashtags("Go #Rust and #rust, #日本 but not a#b or #")).toEqual(["rust", "日本"]);
		expect(extractMentions("hi @alice, @bob.smith. and mail x@y.z")).toEqual(["alice", "bob.smith"]);
	});
	it("builds search terms from words, tags and mentions; queries match them", () => {
		const terms = searchTerms("Hello World #Fun with @Ann");
		expect(terms).toEqual(expect.arrayContaining(["hello", "world", "fun", "#fun", "@ann"]));
		expect(queryTerms("#FUN  hello @Ann")).toEqual(["#fun", "hello", "@ann"]);
		expect(queryTerms("   ")).toEqual([]);
	});
});

describe("explore score", () => {
	const now = Date.UTC(2026, 0, 1);
	it("weights shares over comments over reactions", () => {
		const s = (c: Partial<ReturnType<typeof zeroCounts>>) => exploreScore({ ...zeroCounts(), ...c }, now, now);
		expect(s({ shares: 1 })).toBeGreaterThan(s({ comments: 1 }));
		expect(s({ comments: 1 })).toBeGreaterThan(s({ reactions: 1 }));
		expect(s({ reactions: 3 })).toBeCloseTo(s({ shares: 1 }));
	});
	it("decays with age", () => {
		const c = { ...zeroCounts(), reactions: 10 };
		expect(exploreScore(c, now - 3_600_000, now)).toBeGreaterThan(exploreScore(c, now - 24 * 3_600_000, now));
	});
});

describe("media type sniffing", () => {
	it("recognises images and videos by magic bytes only", () => {
		expect(sniffType(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0]))?.mime).toBe("image/jpeg");
		expect(sniffType(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))?.mime).toBe("image/png");
		expect(sniffType(Buffer.from("GIF89a..."))?.mime).toBe("image/gif");
		expect(sniffType(Buffer.from("RIFF\0\0\0\0WEBPVP8 "))?.mime).toBe("image/webp");
		expect(sniffType(Buffer.from("\0\0\0\x20ftypisom", "latin1"))?.mime).toBe("video/mp4");
		expect(sniffType(Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3]), Buffer.from("....webm")]))?.mime).toBe("video/webm");
	});
	it("rejects everything else, HEIC/AVIF included", () => {
		expect(sniffType(Buffer.from("hello, I am a .jpg"))).toBeNull();
		expect(sniffType(Buffer.from("\0\0\0\x20ftypheic", "latin1"))).toBeNull();
		expect(sniffType(Buffer.from("%PDF-1.7"))).toBeNull();
		expect(sniffType(Buffer.alloc(0))).toBeNull();
	});
});
