import { Invoice } from "./invoice";
import { formatMoney } from "./money";

/** Props of the invoice summary card. */
export interface SummaryProps {
  invoice: Invoice;
  today: Date;
}

/** A card showing the customer, the amount due and a red badge when the invoice is overdue. */
export function InvoiceSummary({ invoice, today }: SummaryProps) {
  const overdue = invoice.isOverdue(today);
  return (
    <div className="summary">
      <h2>{invoice.customer}</h2>
      <p>{formatMoney(invoice.grossTotal())}</p>
      {overdue && <span className="badge">overdue</span>}
    </div>
  );
}
