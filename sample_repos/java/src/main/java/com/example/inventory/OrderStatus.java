package com.example.inventory;

/**
 * The lifecycle of an order.
 */
public enum OrderStatus {
    PENDING, PAID, SHIPPED, CANCELLED;

    /**
     * Whether an order in this status may still be cancelled by the customer.
     */
    public boolean isCancellable() {
        return this == PENDING || this == PAID;
    }
}
