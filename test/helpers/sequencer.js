/**
 * Jest's default order (slowest first, from the timings cache), or, with TEST_SEED=<number>, the test
 * files shuffled by that seed: a run in any order must pass as well, and the seed replays an order.
 */
const Sequencer = require("@jest/test-sequencer").default;

function shuffled(items, seed) {
	// mulberry32: a tiny seeded generator, so one seed always gives the same order
	let a = seed >>> 0;
	const random = () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
	const out = [...items].sort((x, y) => x.path.localeCompare(y.path));
	for (let i = out.length - 1; i > 0; i--) {
		const j = Math.floor(random() * (i + 1));
		[out[i], out[j]] = [out[j], out[i]];
	}
	return out;
}

class SeededSequencer extends Sequencer {
	sort(tests) {
		const seed = process.env.TEST_SEED;
		if (!seed) return super.sort(tests);
		process.stderr.write(`test files shuffled with TEST_SEED=${seed}\n`);
		return shuffled(tests, Number(seed));
	}
}

module.exports = SeededSequencer;
