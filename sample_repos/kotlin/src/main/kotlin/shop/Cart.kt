package shop

/**
 * A customer's shopping cart: products and how many of each.
 */
class Cart(val currency: String = "EUR") {
    private val items = linkedMapOf<String, Line>()

    /** One product in the cart with its quantity. */
    inner class Line(val product: Product, var quantity: Int) {
        /** The price of this line before discounts. */
        val total: Money
            get() = product.price * quantity
    }

    /** The lines in the order they were first added. */
    val lines: List<Line>
        get() = items.values.toList()

    /** The sum of all lines before discounts and tax. */
    val subtotal: Money
        get() = lines.map { it.total }.sum(currency)

    /**
     * Adds a product, or raises the quantity if it is already in the cart.
     */
    fun add(product: Product, quantity: Int = 1) {
        require(quantity > 0) { "quantity must be positive" }
        val line = items.getOrPut(product.sku) { Line(product, 0) }
        line.quantity += quantity
    }

    /** Removes a product entirely; returns false if it was not there. */
    fun remove(sku: String): Boolean = items.remove(sku) != null

    /**
     * Sets a product's quantity; zero removes it.
     */
    fun update(sku: String, quantity: Int) {
        when {
            quantity <= 0 -> items.remove(sku)
            else -> items[sku]?.quantity = quantity
        }
    }

    fun isEmpty(): Boolean = items.isEmpty()
}
