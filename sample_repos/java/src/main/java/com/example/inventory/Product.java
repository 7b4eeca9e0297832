package com.example.inventory;

import java.math.BigDecimal;

/**
 * A product that can be stocked in a warehouse.
 */
public record Product(String sku, String name, BigDecimal unitPrice) {

    /**
     * Validate the fields of a new product.
     */
    public Product {
        if (sku == null || sku.isBlank()) {
            throw new IllegalArgumentException("sku is required");
        }
    }

    /**
     * Price of the given quantity, with a volume discount of five percent from 100 units.
     */
    public BigDecimal priceFor(int quantity) {
        BigDecimal total = unitPrice.multiply(BigDecimal.valueOf(quantity));
        if (quantity >= 100) {
            total = total.multiply(new BigDecimal("0.95"));
        }
        return total;
    }
}
