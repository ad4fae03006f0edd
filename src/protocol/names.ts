/** Topic and channel name rules, as nsqd enforces them. */
const EPHEMERAL_SUFFIX = "#ephemeral";
const MAX_NAME_LENGTH = 64;

function isNameChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x2e || // .
    c === 0x5f || // _
    c === 0x2d // -
  );
}

function isValidName(name: string): boolean {
  const len = name.length;
  if (len < 1 || len > MAX_NAME_LENGTH) return false;
  const base = name.endsWith(EPHEMERAL_SUFFIX) ? len - EPHEMERAL_SUFFIX.length : len;
  if (base < 1) return false;
  for (let i = 0; i < base; i++) if (!isNameChar(name.charCodeAt(i))) return false;
  return true;
}

export const isValidTopicName = isValidName;
export const isValidChannelName = isValidName;

export function isEphemeralName(name: string): boolean {
  return name.endsWith(EPHEMERAL_SUFFIX);
}
