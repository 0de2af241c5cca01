/** The filters above a list (a toolbar or a `role="search"` form). */

/** The option values of a `<select>` and the words shown for them (a list keeps the order of data whose keys may look like numbers). */
export type Words = Record<string, string> | (readonly [value: string, words: string])[];

/** One `<option>` per entry of `words`, in their order. */
export function Options({ words }: { words: Words }) {
	return (
		<>
			{(Array.isArray(words) ? words : Object.entries(words)).map(([v, w]) => (
				<option key={v} value={v}>
					{w}
				</option>
			))}
		</>
	);
}

/**
 * A labelled `<select>` that filters a list: a first option for "no filter" (value "") and one option per
 * entry of `words`, in their order.
 *
 *   <SelectFilter label="Status" value={status} onChange={setStatus} words={STATUS_WORD} />
 */
export function SelectFilter({
	label,
	value,
	onChange,
	words,
	any = "Any",
}: {
	label: string;
	value: string;
	onChange(value: string): void;
	words: Words;
	/** the words of the "no filter" option */
	any?: string;
}) {
	return (
		<label>
			{label}{" "}
			<select value={value} onChange={e => onChange(e.currentTarget.value)}>
				<option value="">{any}</option>
				<Options words={words} />
			</select>
		</label>
	);
}

/** A labelled search box (inside a `role="search"` form that applies it on submit). */
export function SearchInput({
	label,
	value,
	onInput,
	maxLength,
	placeholder,
}: {
	label: string;
	value: string;
	onInput(value: string): void;
	maxLength: number;
	placeholder?: string;
}) {
	return (
		<label>
			{label}{" "}
			<input type="search" value={value} maxLength={maxLength} placeholder={placeholder} onInput={e => onInput(e.currentTarget.value)} />
		</label>
	);
}
