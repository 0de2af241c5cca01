/**
 * The seed's progress: a bar redrawn in place on a terminal, plain lines otherwise (CI logs, pipes,
 * the e2e test), and the tally of what was created versus found already there.
 */
export interface Out {
	write(text: string): unknown;
	isTTY?: boolean;
	columns?: number;
}

export class Progress {
	private done = 0;
	private step = "";
	private lastLine = "";

	constructor(
		private readonly out: Out,
		private readonly total: number,
	) {}

	get tty(): boolean {
		return Boolean(this.out.isTTY);
	}

	/** a new step: on a terminal the bar's label, otherwise a line of its own */
	begin(step: string): void {
		this.step = step;
		if (this.tty) this.draw();
		else this.out.write(`seed: ${this.percent()} ${step}\n`);
	}

	tick(n = 1): void {
		this.done = Math.min(this.total, this.done + n);
		if (this.tty) this.draw();
	}

	/** a line above the bar (or a plain line) */
	log(line: string): void {
		if (this.tty) this.out.write(`\r\x1b[K${line}\n`);
		else this.out.write(`seed: ${line}\n`);
		if (this.tty) this.draw();
	}

	finish(): void {
		this.done = this.total;
		if (this.tty) this.out.write("\r\x1b[K");
	}

	private percent(): string {
		return `${String(Math.floor((100 * this.done) / Math.max(1, this.total))).padStart(3)}%`;
	}

	private draw(): void {
		const width = 28;
		const filled = Math.round((width * this.done) / Math.max(1, this.total));
		const line = `[${"█".repeat(filled)}${"░".repeat(width - filled)}] ${this.percent()} ${this.step}`.slice(
			0,
			Math.max(20, (this.out.columns ?? 100) - 1),
		);
		if (line === this.lastLine) return;
		this.lastLine = line;
		this.out.write(`\r\x1b[K${line}`);
	}
}

/** What a run created and what it found already there, per kind of record. */
export class Tally {
	readonly created = new Map<string, number>();
	readonly existing = new Map<string, number>();

	add(kind: string, wasCreated: boolean, n = 1): void {
		if (n <= 0) return;
		const map = wasCreated ? this.created : this.existing;
		map.set(kind, (map.get(kind) ?? 0) + n);
	}

	get createdTotal(): number {
		return [...this.created.values()].reduce((a, b) => a + b, 0);
	}

	get existingTotal(): number {
		return [...this.existing.values()].reduce((a, b) => a + b, 0);
	}

	static list(map: Map<string, number>): string {
		return [...map].map(([kind, n]) => `${n} ${kind}`).join(", ");
	}
}
