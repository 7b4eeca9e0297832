/** An amount of money in minor units (cents), with its currency code. */
export interface Money {
  amount: number;
  currency: string;
}

/** Currencies the ledger knows, with their minor-unit exponent. */
export enum Currency {
  EUR = "EUR",
  USD = "USD",
  JPY = "JPY",
}

/** Add two amounts of the same currency; throws when the currencies differ. */
export function addMoney(a: Money, b: Money): Money {
  if (a.currency !== b.currency) {
    throw new Error(`cannot add ${a.currency} to ${b.currency}`);
  }
  return { amount: a.amount + b.amount, currency: a.currency };
}

/** Format an amount for display, e.g. "12.50 EUR". */
export function formatMoney(m: Money): string {
  const digits = m.currency === Currency.JPY ? 0 : 2;
  return `${(m.amount / 10 ** digits).toFixed(digits)} ${m.currency}`;
}

/** Split an amount into n parts whose sum is exactly the original (the remainder goes first). */
export const splitEvenly = (m: Money, n: number): Money[] => {
  const base = Math.floor(m.amount / n);
  const remainder = m.amount - base * n;
  return Array.from({ length: n }, (_, i) => ({ amount: base + (i < remainder ? 1 : 0), currency: m.currency }));
};
