package shop

/** The result of charging a customer. */
sealed class PaymentResult {
    /** The payment went through; [reference] identifies it at the provider. */
    data class Paid(val reference: String) : PaymentResult()

    /** The provider refused the payment. */
    data class Declined(val reason: String) : PaymentResult()
}

/** Charges customers through an external payment provider. */
fun interface PaymentGateway {
    /** Charges the amount to the card token. */
    fun charge(amount: Money, cardToken: String): PaymentResult
}

/**
 * A priced order: what the customer pays and how it breaks down.
 */
data class Receipt(val subtotal: Money, val discount: Money, val vat: Money) {
    val total: Money
        get() = subtotal + vat + Money(-discount.cents, discount.currency)
}

/**
 * Prices a cart, applies the best discount and charges the customer.
 */
class CheckoutService(
    private val gateway: PaymentGateway,
    private val discounts: List<Discount> = emptyList(),
) {
    /**
     * The receipt for a cart: subtotal, best discount, and VAT per category.
     */
    fun price(cart: Cart, code: String? = null): Receipt {
        val candidates = discounts + listOfNotNull(code?.let(DiscountCodes::redeem))
        val discount = bestDiscount(cart, candidates)
        val vat = cart.lines.map { it.total.percent(it.product.category.vatRate) }.sum(cart.currency)
        return Receipt(cart.subtotal, discount, vat)
    }

    /**
     * Charges the customer for the cart; an empty cart is refused before any charge.
     */
    fun checkout(cart: Cart, cardToken: String, code: String? = null): PaymentResult {
        if (cart.isEmpty()) {
            return PaymentResult.Declined("cart is empty")
        }
        val receipt = price(cart, code)
        return gateway.charge(receipt.total, cardToken)
    }
}
