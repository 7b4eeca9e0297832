import { Money } from "./money";

/** Raised when a CSV line cannot be read as a payment. */
export class ParseError extends Error {}

/** A payment received from a bank export. */
export interface Payment {
  reference: string;
  received: Date;
  amount: Money;
}

/** Read one line of a bank CSV export ("reference;date;amount;currency") into a payment. */
export function parsePaymentLine(line: string): Payment {
  const [reference, date, amount, currency] = line.split(";").map((f) => f.trim());
  const cents = Math.round(Number.parseFloat(amount) * 100);
  if (!reference || Number.isNaN(cents)) {
    throw new ParseError(`bad payment line: ${line}`);
  }
  return { reference, received: new Date(date), amount: { amount: cents, currency } };
}

/** Read every non-empty line of an export, skipping a header line if present. */
export function parsePayments(text: string): Payment[] {
  return text
    .split(/\r?\n/)
    .filter((line, i) => line.trim() && !(i === 0 && line.startsWith("reference")))
    .map(parsePaymentLine);
}
