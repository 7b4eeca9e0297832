package com.example.inventory;

import java.util.HashMap;
import java.util.Map;

/**
 * Tracks how many units of each product are in stock.
 */
public class Warehouse {
    private final Map<String, Integer> stock = new HashMap<>();

    /**
     * Add units of a product to the stock.
     */
    public void receive(String sku, int quantity) {
        if (quantity <= 0) {
            throw new IllegalArgumentException("quantity must be positive");
        }
        stock.merge(sku, quantity, Integer::sum);
    }

    /**
     * Remove units from the stock, failing when there are not enough.
     */
    public void ship(String sku, int quantity) throws OutOfStockException {
        int available = stock.getOrDefault(sku, 0);
        if (available < quantity) {
            throw new OutOfStockException(sku, quantity, available);
        }
        stock.put(sku, available - quantity);
    }

    /**
     * Units currently in stock for a product.
     */
    public int available(String sku) {
        return stock.getOrDefault(sku, 0);
    }

    /**
     * Thrown when an order asks for more units than the warehouse holds.
     */
    public static class OutOfStockException extends Exception {
        public OutOfStockException(String sku, int wanted, int available) {
            super("only " + available + " of " + sku + " left, " + wanted + " wanted");
        }
    }
}
