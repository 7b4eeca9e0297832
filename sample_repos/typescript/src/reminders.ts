import { Invoice } from "./invoice";

/** How often, in days after the due date, a reminder is sent. */
const REMINDER_DAYS = [3, 10, 30];

/** Sends messages to customers; real implementations use email or SMS. */
export interface Notifier {
  send(customer: string, message: string): Promise<void>;
}

/** Decide which reminder (1, 2, 3) is due for an overdue invoice today, or none. */
export function reminderLevel(invoice: Invoice, today: Date): number {
  const daysLate = Math.floor((today.getTime() - invoice.dueDate.getTime()) / 86_400_000);
  return REMINDER_DAYS.filter((d) => daysLate >= d).length;
}

/** Send the due payment reminders for a batch of invoices, one message per customer. */
export async function sendReminders(invoices: Invoice[], notifier: Notifier, today: Date): Promise<number> {
  let sent = 0;
  for (const invoice of invoices) {
    const level = reminderLevel(invoice, today);
    if (level > 0) {
      await notifier.send(invoice.customer, `Reminder ${level}: your invoice is overdue.`);
      sent++;
    }
  }
  return sent;
}
