package shop

/** The shelves a product can be on; some are taxed at a reduced rate. */
enum class Category(val vatRate: Int) {
    FOOD(7),
    BOOKS(7),
    ELECTRONICS(19),
    CLOTHING(19);

    /** Whether this category uses the reduced tax rate. */
    fun isReduced(): Boolean = vatRate < 19
}

/**
 * Something the shop sells.
 */
data class Product(
    val sku: String,
    val name: String,
    val price: Money,
    val category: Category,
)

/** Looks up products by their stock keeping unit. */
interface Catalog {
    /** The product with this SKU, or null if it is not sold. */
    fun find(sku: String): Product?

    /** Every product in one category. */
    fun inCategory(category: Category): List<Product>
}

/**
 * A catalog held in memory, filled once at start-up.
 */
class InMemoryCatalog(products: Iterable<Product>) : Catalog {
    private val bySku = products.associateBy { it.sku }

    /** An empty catalog. */
    constructor() : this(emptyList())

    override fun find(sku: String): Product? = bySku[sku]

    override fun inCategory(category: Category): List<Product> =
        bySku.values.filter { it.category == category }.sortedBy { it.name }
}
