// JSON numbers judged by their literal. JSON.parse rounds `1.00000000000000001` to
// the integer 1, so a schema that sees only the parsed value would accept a
// non-integer amount. Node 20's reviver has no source text, so the raw text is
// scanned instead: strings are skipped whole, and every number literal whose exact
// value is not an integer but which would parse to one is replaced by `0.5`, a
// literal with the same verdict (not an integer) that survives parsing. Nothing else
// changes: valid JSON stays valid, invalid JSON stays invalid.

/** Strings first (so digits inside them are skipped), then number-like runs. */
const TOKEN = /"(?:[^"\\]|\\[\s\S])*"|-?[0-9][0-9.eE+-]*/g;
const NUMBER = /^-?(0|[1-9][0-9]*)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$/;

/** Whether a JSON number literal's exact decimal value is an integer, without float arithmetic. */
export const isIntegralLiteral = (literal: string): boolean => {
  const m = NUMBER.exec(literal);
  if (!m) return false;
  const digits = `${m[1]}${m[2] ?? ''}`.replace(/^0+/, '');
  if (digits === '') return true; // zero, however written
  const trailingZeros = digits.length - digits.replace(/0+$/, '').length;
  // value = digits × 10^(exponent − fraction length): integral iff that power, plus
  // the trailing zeros it can absorb, is not negative.
  return BigInt(m[3] ?? 0) - BigInt(m[2]?.length ?? 0) + BigInt(trailingZeros) >= 0n;
};

export const exactNumbers = (text: string): string => {
  if (!/[.eE]/.test(text)) return text;
  return text.replace(TOKEN, (token) => {
    if (token.startsWith('"') || !NUMBER.test(token) || !/[.eE]/.test(token)) return token;
    return Number.isInteger(Number(token)) && !isIntegralLiteral(token) ? '0.5' : token;
  });
};
