/**
 * bunsq's version: the nsqd protocol level it implements, with build metadata
 * naming bunsq (sorts equal to 1.3.0 in semver). Every daemon, tool and the
 * client report it; it lives in the bottom layer so none of them loads more
 * than this file to know it.
 */
export const VERSION = "1.3.0+bunsq";
