package com.example.inventory;

import java.math.BigDecimal;
import java.util.List;

/**
 * Places orders against the warehouse and computes their totals.
 */
public class OrderService {
    private final Warehouse warehouse;
    private final PriceCatalog catalog;

    public OrderService(Warehouse warehouse, PriceCatalog catalog) {
        this.warehouse = warehouse;
        this.catalog = catalog;
    }

    /**
     * Reserve stock for every line of an order and return the order total.
     */
    public BigDecimal placeOrder(List<OrderLine> lines) throws Warehouse.OutOfStockException {
        for (OrderLine line : lines) {
            if (warehouse.available(line.sku()) < line.quantity()) {
                throw new Warehouse.OutOfStockException(line.sku(), line.quantity(), warehouse.available(line.sku()));
            }
        }
        BigDecimal total = BigDecimal.ZERO;
        for (OrderLine line : lines) {
            warehouse.ship(line.sku(), line.quantity());
            total = total.add(catalog.lookup(line.sku()).priceFor(line.quantity()));
        }
        return total;
    }

    /**
     * Add sales tax at the given rate to an amount, rounded to cents.
     */
    public static BigDecimal withTax(BigDecimal amount, BigDecimal rate) {
        return amount.add(amount.multiply(rate)).setScale(2, java.math.RoundingMode.HALF_UP);
    }

    /** One line of an order: a product and a quantity. */
    public record OrderLine(String sku, int quantity) {
    }

    /**
     * Looks up products by their stock keeping unit.
     */
    public interface PriceCatalog {
        /** Find the product with this sku. */
        Product lookup(String sku);
    }
}
