"""Signal helpers shared by the stages (filters, window means); below every stage that uses them."""
