import { Money, addMoney } from "./money";

/** One line of an invoice: a description, a quantity and a unit price. */
export type LineItem = { description: string; quantity: number; unitPrice: Money };

/** Anything that can compute a tax on a net amount. */
export interface TaxRule {
  taxFor(net: Money): Money;
}

/** A flat-rate tax such as VAT, given in percent. */
export class FlatTax implements TaxRule {
  constructor(private readonly percent: number) {}

  /** The tax on a net amount, rounded half up to the minor unit. */
  taxFor(net: Money): Money {
    return { amount: Math.round((net.amount * this.percent) / 100), currency: net.currency };
  }
}

/** An invoice to a customer: line items, a tax rule and a due date. */
export class Invoice {
  private items: LineItem[] = [];

  constructor(readonly customer: string, private readonly tax: TaxRule, readonly dueDate: Date) {}

  /** Add a line item; the quantity must be positive. */
  addItem(item: LineItem): this {
    if (item.quantity <= 0) {
      throw new RangeError("quantity must be positive");
    }
    this.items.push(item);
    return this;
  }

  /** The sum of all line items before tax. */
  netTotal(): Money {
    return this.items
      .map((i) => ({ amount: i.unitPrice.amount * i.quantity, currency: i.unitPrice.currency }))
      .reduce(addMoney);
  }

  /** The amount to pay: net total plus tax. */
  grossTotal(): Money {
    const net = this.netTotal();
    return addMoney(net, this.tax.taxFor(net));
  }

  /** Whether the invoice is past its due date on the given day. */
  isOverdue(today: Date): boolean {
    return today.getTime() > this.dueDate.getTime();
  }
}
