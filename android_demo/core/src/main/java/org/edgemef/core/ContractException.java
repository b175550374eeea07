package org.edgemef.core;

/** A contract file that is not what the published format (docs/contract.md) or the runtime expects. */
public final class ContractException extends Exception {
    public ContractException(String message) {
        super(message);
    }
}
