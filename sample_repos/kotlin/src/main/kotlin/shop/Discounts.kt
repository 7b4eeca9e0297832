package shop

/** Maps a cart subtotal to the amount taken off it. */
typealias DiscountRule = (Cart) -> Money

/**
 * A reduction applied to a cart at checkout.
 */
sealed interface Discount {
    /** How much this discount takes off the given cart. */
    fun amountOff(cart: Cart): Money

    /** A fixed percentage off the whole cart. */
    data class Percentage(val rate: Int) : Discount {
        override fun amountOff(cart: Cart): Money = cart.subtotal.percent(rate)
    }

    /**
     * Buy [buy] items of a product, get one more free.
     */
    data class BuyXGetOne(val sku: String, val buy: Int) : Discount {
        override fun amountOff(cart: Cart): Money {
            val line = cart.lines.firstOrNull { it.product.sku == sku } ?: return Money.zero()
            val free = line.quantity / (buy + 1)
            return line.product.price * free
        }
    }
}

/**
 * Discount codes customers can type in at checkout.
 */
object DiscountCodes {
    private val codes = mutableMapOf<String, Discount>()

    /** Makes a code redeemable; codes are case-insensitive. */
    fun register(code: String, discount: Discount) {
        codes[code.uppercase()] = discount
    }

    /**
     * The discount for a code, or null when the code is unknown.
     */
    fun redeem(code: String): Discount? = codes[code.trim().uppercase()]
}

/**
 * The largest of several discounts: they do not stack.
 */
fun bestDiscount(cart: Cart, discounts: List<Discount>): Money =
    discounts.map { it.amountOff(cart) }.maxOrNull() ?: Money.zero(cart.currency)
