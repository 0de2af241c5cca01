/** The media record and what the media service and its upload mixin see on `this`. */
import type { MediaStorage, Sniffed } from "./media-storage";
import type { SocialDbMethods, SocialDbVars } from "./social-db";

export const VARIANTS = { thumb: 200, medium: 800 } as const;
export type VariantName = "original" | keyof typeof VARIANTS;

export interface StoredFile {
	key: string;
	mime: string;
	size: number;
	width?: number;
	height?: number;
}

export interface MediaDoc {
	id: string;
	ownerId: string;
	kind: "image" | "video";
	mime: string;
	size: number;
	width?: number;
	height?: number;
	/** seconds (MP4 only, from its header) */
	duration?: number | null;
	files: Partial<Record<VariantName, StoredFile>>;
	postId: string | null;
	createdAt: string;
}

export type StoredInfo = Pick<MediaDoc, "files" | "width" | "height" | "size" | "duration">;

export interface MediaVars extends SocialDbVars {
	storage: MediaStorage;
	unattachedTtlS: number;
	sweepTimer?: NodeJS.Timeout;
}

export interface MediaMethods extends SocialDbMethods {
	/** A failed remote store becomes a clean 503 (problem SERVICE_UNAVAILABLE); anything else is unchanged. */
	storageError(err: unknown, what: string, key?: string): unknown;
	present(doc: MediaDoc): Record<string, unknown>;
	/** Pushes each key to `stored` before writing it, so the caller can remove them all on failure. */
	storeImage(id: string, tmp: string, type: Sniffed, stored: string[]): Promise<StoredInfo>;
	/** The records of these ids (the ones that exist). */
	findMedia(ids: string[]): Promise<MediaDoc[]>;
}
