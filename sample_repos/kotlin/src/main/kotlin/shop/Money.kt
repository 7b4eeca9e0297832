package shop

/**
 * An amount of money in minor units (cents) of one currency.
 */
data class Money(val cents: Long, val currency: String = "EUR") : Comparable<Money> {

    /** Adds two amounts of the same currency. */
    operator fun plus(other: Money): Money {
        requireSameCurrency(other)
        return Money(cents + other.cents, currency)
    }

    /** Multiplies the amount by a whole quantity. */
    operator fun times(quantity: Int): Money = Money(cents * quantity, currency)

    /**
     * The given percentage of this amount, rounded half up to the cent.
     */
    fun percent(rate: Int): Money = Money((cents * rate + 50) / 100, currency)

    override fun compareTo(other: Money): Int {
        requireSameCurrency(other)
        return cents.compareTo(other.cents)
    }

    private fun requireSameCurrency(other: Money) {
        require(currency == other.currency) { "cannot mix $currency and ${other.currency}" }
    }

    companion object {
        /** Zero in the given currency. */
        fun zero(currency: String = "EUR"): Money = Money(0, currency)

        /**
         * Parses a decimal string such as "12.34" into cents.
         */
        fun parse(text: String, currency: String = "EUR"): Money {
            val (whole, fraction) = (text.trim().split('.') + "0").take(2)
            return Money(whole.toLong() * 100 + fraction.padEnd(2, '0').take(2).toLong(), currency)
        }
    }
}

/** This many whole euros as money. */
val Int.euros: Money
    get() = Money(this * 100L)

/**
 * Adds up a list of amounts; an empty list is zero.
 */
fun Iterable<Money>.sum(currency: String = "EUR"): Money =
    fold(Money.zero(currency)) { total, amount -> total + amount }
