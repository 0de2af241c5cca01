/** Bookmarks: one row per user per saved post. Private to the user who saved. */
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { EdgeMixin } from "./edges";

const PostSavesService: ServiceSchema<DbSettings> = {
	name: "postsaves",
	mixins: [
		EdgeMixin({
			collection: "social_saves",
			indexes: [{ fields: ["postId", "userId"], unique: true }, { fields: ["postId"] }, { fields: ["userId"] }],
		}),
	],
};

export default PostSavesService;
